//! stub
use mlua::{Lua, Table};
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}
