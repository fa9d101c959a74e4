pub mod pyjson;
pub mod verify;
