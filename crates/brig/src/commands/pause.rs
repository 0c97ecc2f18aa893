//! `brig pause ID`: freeze every process of a container (state then reports `paused`).

use super::Outcome;
use crate::Ctx;

/// Suspend all processes of a container
#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    libcontainer::container::pause(&ctx.root, &args.id)
        .map_err(|e| format!("pause {}: {e}", args.id))?;
    Ok(0)
}
