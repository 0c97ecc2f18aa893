//! namespaces (in progress)
