pub mod pyjson;
