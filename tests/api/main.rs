//! Black-box tests: a real daemon on 127.0.0.1:0 over a real temp workspace and SQLite file.
mod helpers;

mod contract;
mod corpus;
mod etags;
mod events;
mod fleet;
mod gitlog;
mod limits;
mod promote;
mod records;
mod releases;
mod retention;
mod status;
mod verify;
mod versions;
mod watching;
