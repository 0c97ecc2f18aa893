//! time (in progress)
