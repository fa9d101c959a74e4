pub mod pyjson;
pub mod report;
