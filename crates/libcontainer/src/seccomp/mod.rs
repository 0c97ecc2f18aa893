//! seccomp: placeholder until the seccomp compiler lands; a profile is refused with a clear error.

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp: not supported by this build of brig")]
    Unsupported,
}

pub struct CompiledFilter;

pub fn compile(_: &oci_spec::runtime::LinuxSeccomp) -> Result<CompiledFilter, SeccompError> {
    Err(SeccompError::Unsupported)
}

impl CompiledFilter {
    pub fn install(&self) -> Result<Option<std::os::fd::OwnedFd>, SeccompError> {
        Err(SeccompError::Unsupported)
    }
}
