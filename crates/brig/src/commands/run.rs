//! `brig run [--detach] [--bundle B] ... ID`: create + start; in the foreground, wait and exit
//! with the container's status (128+N for death by signal N), then delete it.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::Outcome;
use crate::Ctx;

/// Create and start a container
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    #[arg(long = "pid-file", value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// Return once the container has started
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep the container's state after it exits (foreground only)
    #[arg(long)]
    pub keep: bool,
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Accepted for runc compatibility
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: i32,
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let create = super::create::Args {
        bundle: args.bundle.clone(),
        console_socket: args.console_socket.clone(),
        pid_file: args.pid_file.clone(),
        no_pivot: args.no_pivot,
        no_new_keyring: args.no_new_keyring,
        preserve_fds: args.preserve_fds,
        pidfd_socket: None,
        id: args.id.clone(),
    };
    let mut opts = create.options(ctx);
    // A terminal without a console socket in the foreground: brig holds the pty itself.
    let mut our_end: Option<OwnedFd> = None;
    if args.console_socket.is_none() && !args.detach && terminal_requested(&args.bundle) {
        let (a, b) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("run {}: socketpair: {e}", args.id))?;
        our_end = Some(a.into());
        opts.console_fd = Some(b.into());
    }
    if !args.detach && !args.no_subreaper {
        // The init may be a grandchild (joined pid/time namespaces fork twice): make it ours to
        // wait for when its parent exits.
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    let log = |l, m: &str| ctx.log(l, m);
    let st =
        libcontainer::container::create(opts, &log).map_err(|e| format!("run {}: {e}", args.id))?;
    let master = match our_end {
        Some(sock) => {
            use std::os::fd::AsFd;
            match libcontainer::tty::recv_fd(sock.as_fd()) {
                Ok(m) => Some(m),
                Err(e) => {
                    let _ = libcontainer::container::delete(&ctx.root, &args.id, true, &log);
                    return Err(format!("run {}: {e}", args.id));
                }
            }
        }
        None => None,
    };
    if let Err(e) = libcontainer::container::start(&ctx.root, &args.id, &log) {
        let _ = libcontainer::container::delete(&ctx.root, &args.id, true, &log);
        return Err(format!("run {}: {e}", args.id));
    }
    if args.detach {
        return Ok(0);
    }
    let code = libcontainer::container::wait_foreground(st.pid, master);
    if !args.keep {
        libcontainer::container::delete(&ctx.root, &args.id, true, &log)
            .map_err(|e| format!("run {}: {e}", args.id))?;
    }
    Ok(code.clamp(0, 255) as u8)
}

fn terminal_requested(bundle: &std::path::Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/process/terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}
