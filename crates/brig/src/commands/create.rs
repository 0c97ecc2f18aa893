//! `brig create [--bundle B] [--pid-file F] [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID`

use std::path::PathBuf;

use super::Outcome;
use crate::Ctx;

/// Create a container (its init waits until `start`)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Path to the bundle directory
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket that receives the pty master when process.terminal is true
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// File to write the init's host pid to
    #[arg(long = "pid-file", value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N extra fds (3..3+N-1) to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: i32,
    /// Accepted for runc compatibility (pidfd socket is not supported)
    #[arg(long = "pidfd-socket", hide = true)]
    pub pidfd_socket: Option<PathBuf>,
    pub id: String,
}

impl Args {
    pub fn options(&self, ctx: &Ctx) -> libcontainer::container::CreateOptions {
        libcontainer::container::CreateOptions {
            root: ctx.root.clone(),
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            pid_file: self
                .pid_file
                .as_ref()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
            console_socket: self.console_socket.clone(),
            console_fd: None,
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
            systemd_cgroup: ctx.systemd_cgroup,
            rootless: ctx.rootless,
        }
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    libcontainer::container::create(args.options(ctx), &|l, m| ctx.log(l, m))
        .map_err(|e| format!("create {}: {e}", args.id))?;
    Ok(0)
}
