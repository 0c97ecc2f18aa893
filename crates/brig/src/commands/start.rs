//! `brig start ID`

use super::Outcome;
use crate::Ctx;

/// Start a created container (its process begins)
#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    libcontainer::container::start(&ctx.root, &args.id, &|l, m| ctx.log(l, m))
        .map_err(|e| format!("start {}: {e}", args.id))?;
    Ok(0)
}
