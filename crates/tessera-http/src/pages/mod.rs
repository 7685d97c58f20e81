//! Server-rendered pages: compiled askama templates, no external assets.

pub mod device;
pub mod login;
