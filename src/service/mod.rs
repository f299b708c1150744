//! What both front ends do with the database: the terminal UI (`crate::app`) and the command
//! line (`crate::commands`) search, write and erase through here, so the rules (who may write
//! where, exactly-once saves, replicas for reads) live in one place. Above `db` and `domain`;
//! never names `app`, `ui`, `commands` or `config`.

pub mod drafts;
pub mod records;
pub mod search;
