//! The API's bodies as Rust types. Handlers answer with them and `openapi.yaml` is generated
//! from them (src/http/openapi.rs), so the contract cannot drift from what is served. They are
//! built here from storage rows: storage returns rows, this layer decides the JSON.

mod attempts;
mod common;
mod promotions;
mod retention;
mod runs;
mod status;
mod verify;

pub use attempts::*;
pub use common::*;
pub use promotions::*;
pub use retention::*;
pub use runs::*;
pub use status::*;
pub use verify::*;
