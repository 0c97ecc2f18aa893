//! `brig state ID`: the runtime-spec state JSON on stdout.

use super::Outcome;
use crate::Ctx;

/// Print the state of a container as JSON
#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let (st, status) =
        libcontainer::container::state(&ctx.root, &args.id).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&st.oci(status)).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(0)
}
