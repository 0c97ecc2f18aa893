//! `brig exec [flags] ID [COMMAND ARGS...]`: run a new process in a running container.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::Outcome;
use crate::Ctx;

/// Execute a new process inside a running container
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Unix socket that receives the pty master (with --tty)
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Working directory of the new process
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set an environment variable (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub tty: bool,
    /// UID[:GID] of the new process
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Additional gids (repeatable)
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// A runtime-spec process JSON to run instead of COMMAND
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,
    /// Return once the process runs
    #[arg(short = 'd', long)]
    pub detach: bool,
    #[arg(long = "pid-file", value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    #[arg(long)]
    pub apparmor: Option<String>,
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// Add a capability (repeatable)
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: i32,
    /// Run in an existing sub-cgroup of the container's: `[<controller>[,...]:]<path>` (repeatable)
    #[arg(long, value_name = "[CONTROLLER:]PATH")]
    pub cgroup: Vec<String>,
    /// Allow exec in a paused container
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    pub id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let mut receiver: Option<OwnedFd> = None;
    let mut console_fd: Option<OwnedFd> = None;
    let wants_tty = args.tty
        || args
            .process
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("terminal").and_then(|t| t.as_bool()))
            .unwrap_or(false);
    if wants_tty && args.console_socket.is_none() && !args.detach {
        let (a, b) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("exec {}: socketpair: {e}", args.id))?;
        receiver = Some(a.into());
        console_fd = Some(b.into());
    }
    if !args.detach {
        // SAFETY: prctl with integer arguments: the new process is a grandchild when the
        // container has a pid namespace; make it ours to wait for.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    let opts = libcontainer::exec::ExecOptions {
        root: ctx.root.clone(),
        id: args.id.clone(),
        process_file: args.process,
        args: args.command,
        tty: args.tty,
        console_socket: args.console_socket,
        console_fd,
        console_receiver: receiver,
        detach: args.detach,
        pid_file: args.pid_file.map(|p| std::path::absolute(&p).unwrap_or(p)),
        cwd: args.cwd,
        env: args.env,
        user: args.user,
        additional_gids: args.additional_gids,
        caps: args.cap,
        no_new_privs: args.no_new_privs,
        preserve_fds: args.preserve_fds,
        ignore_paused: args.ignore_paused,
        apparmor: args.apparmor,
        process_label: args.process_label,
        cgroup: args.cgroup,
    };
    match libcontainer::exec::exec(opts) {
        Ok(code) => Ok(code.clamp(0, 255) as u8),
        Err(libcontainer::container::ContainerError::Exec { code, what }) => {
            ctx.fail(&format!("exec {}: {what}", args.id));
            Ok(code.clamp(1, 255) as u8)
        }
        Err(e) => Err(format!("exec {}: {e}", args.id)),
    }
}
