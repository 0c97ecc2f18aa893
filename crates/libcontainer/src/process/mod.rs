//! The container's init: what brig prepares before the clone (`InitConfig`), the clone itself
//! (`clone`), the protocol both sides speak (`sync`) and the steps the init runs (`init`).

pub mod clone;
pub mod init;
pub mod sync;

pub use init::{InitConfig, Rlimit};
