//! invarlockd: watches an InvarLock workspace, indexes every attempt in SQLite, promotes PASS
//! evidence, verifies certificates and applies retention, over HTTP and as a CLI.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod domain;
pub mod events;
pub mod fleet;
pub mod fsx;
pub mod gitlog;
pub mod http;
pub mod index;
pub mod metrics;
pub mod promote;
pub mod pyjson;
pub mod report;
pub mod retention;
pub mod snapshot;
pub mod storage;
pub mod telemetry;
pub mod timezone;
pub mod verify;
pub mod watch;
pub mod workspace;
