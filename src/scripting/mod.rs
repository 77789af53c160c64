//! Lua scripting: the libraries Redis 7.0 embeds for scripts (`cjson`, `cmsgpack`, `bit`, `struct`).
pub mod lib;
