//! Shared pieces of the conformance suite: raw libc calls, TAP output and /proc parsers.
//!
//! The suite has two programs. `conformance-checker` runs inside a container and checks the
//! config.json it is given from the container's point of view; `conformance-runner` builds the
//! bundles, drives the runtime through its lifecycle and folds everything into one report.

pub mod procfs;
pub mod sys;
pub mod tap;
