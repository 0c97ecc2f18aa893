//! `brig list [--format table|json] [--quiet]`

use super::Outcome;
use crate::Ctx;

/// List containers
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format: table or json
    #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Print only the ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let list = libcontainer::container::list(&ctx.root).map_err(|e| e.to_string())?;
    if args.quiet {
        for c in &list {
            println!("{}", c.state.id);
        }
        return Ok(0);
    }
    if args.format == "json" {
        let v: Vec<_> = list.iter().map(|c| c.state.oci(c.status)).collect();
        // runc prints `null` for no containers (a nil Go slice).
        let json = if v.is_empty() {
            "null".to_string()
        } else {
            serde_json::to_string(&v).map_err(|e| e.to_string())?
        };
        println!("{json}");
        return Ok(0);
    }
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|c| {
            let pid = if c.status == libcontainer::state::Status::Stopped {
                0
            } else {
                c.state.pid
            };
            [
                c.state.id.clone(),
                pid.to_string(),
                c.status.to_string(),
                c.state.bundle.display().to_string(),
                c.state.created.clone(),
                c.state.owner.clone(),
            ]
        })
        .collect();
    let head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];
    let mut width = head.map(|h| h.len());
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}", w = width[i] + 4));
            }
        }
        println!("{s}");
    };
    line(head.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    Ok(0)
}
