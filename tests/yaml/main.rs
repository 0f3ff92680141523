//! The inventory's YAML reader on its own: the same answers as serde_norway, the reader it replaces (differential, generated), typed deserialization, and the bounds on hostile input (limits).

mod common;
mod differential;
mod generated;
mod limits;
mod typed;
