//! capabilities (in progress)
