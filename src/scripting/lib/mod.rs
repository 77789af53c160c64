//! The Lua libraries Redis embeds beside the standard ones: `cjson`, `cmsgpack`, `bit` and
//! `struct`, installed as globals by [`register_all`].
//!
//! Placeholder: the libraries are written separately and installed here; the scripting
//! engine calls [`register_all`] while it builds each Lua state, before it makes the
//! globals read-only.

/// Installs the globals `cjson`, `cmsgpack`, `bit` and `struct` into `lua`.
pub fn register_all(lua: &mlua::Lua) -> mlua::Result<()> {
    let _ = lua;
    Ok(())
}
