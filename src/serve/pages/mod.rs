//! The pages: each module loads its data (the same value `/api/...` returns as JSON) and
//! renders it with maud, which escapes every value it is given.

pub mod entry;
pub mod issues;
pub mod layout;
pub mod query;
pub mod session;
pub mod sessions;
pub mod table;
