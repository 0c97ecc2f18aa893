//! `brig kill [--all] ID [SIGNAL]`: SIGNAL is a name (with or without SIG) or a number.

use super::Outcome;
use crate::Ctx;

/// Send a signal to a container's init (or, with --all, to all its processes)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal every process in the container's cgroup
    #[arg(short = 'a', long)]
    pub all: bool,
    pub id: String,
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let sig =
        libcontainer::signal::parse(&args.signal).map_err(|e| format!("kill {}: {e}", args.id))?;
    libcontainer::container::kill(&ctx.root, &args.id, sig, args.all)
        .map_err(|e| format!("kill {}: {e}", args.id))?;
    Ok(0)
}
