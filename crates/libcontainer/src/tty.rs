//! tty (in progress)
