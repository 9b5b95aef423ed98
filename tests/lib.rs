//! One integration-test binary (keeps link time down); each module is one area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bundled;
mod cli;
mod corpus;
mod diagnostics;
mod engine;
mod forms;
mod golden;
mod hostile;
mod lints;
mod reference;
#[cfg(feature = "server")]
mod server;
