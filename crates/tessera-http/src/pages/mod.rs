//! Server-rendered pages: compiled askama templates, no external assets.

pub mod login;
