//! `brig delete [--force] ID`

use super::Outcome;
use crate::Ctx;

/// Delete a container and everything it made
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Kill the container first if it is still running
    #[arg(short = 'f', long)]
    pub force: bool,
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    libcontainer::container::delete(&ctx.root, &args.id, args.force, &|l, m| ctx.log(l, m))
        .map_err(|e| format!("delete {}: {e}", args.id))?;
    Ok(0)
}
