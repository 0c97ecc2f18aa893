//! `brig resume ID`: thaw a paused container.

use super::Outcome;
use crate::Ctx;

/// Resume all processes of a paused container
#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    libcontainer::container::resume(&ctx.root, &args.id)
        .map_err(|e| format!("resume {}: {e}", args.id))?;
    Ok(0)
}
