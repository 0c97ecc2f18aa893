//! `brig ps [--format table|json] ID [PS-ARGS...]`: the processes of a container.
//!
//! json prints the host pids as runc does (`[1,2]`, `null` when there are none). table without
//! PS-ARGS (or with just `-ef`) is built from /proc in `ps -ef` columns, with no `ps` binary needed;
//! other PS-ARGS run the host's `ps` and keep the container's rows, as runc always does.

use super::Outcome;
use crate::Ctx;
use libcontainer::container;

/// Display the processes running inside a container
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format: table or json
    #[arg(short = 'f', long, default_value = "table")]
    pub format: String,
    pub id: String,
    /// Arguments for `ps` (table format only)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let fail = |e: &dyn std::fmt::Display| format!("ps {}: {e}", args.id);
    if args.format != "table" && args.format != "json" {
        return Err(fail(&"invalid format option (table or json)"));
    }
    let pids = container::ps_pids(&ctx.root, &args.id).map_err(|e| fail(&e))?;
    if args.format == "json" {
        if pids.is_empty() {
            println!("null");
        } else {
            println!("{}", serde_json::to_string(&pids).map_err(|e| fail(&e))?);
        }
        return Ok(0);
    }
    let ps_args: &[String] = match args.ps_args.first().map(String::as_str) {
        Some("--") => &args.ps_args[1..],
        _ => &args.ps_args,
    };
    if !ps_args.is_empty() && ps_args != ["-ef"] {
        let out = container::ps_exec(ps_args, &pids).map_err(|e| fail(&e))?;
        print!("{out}");
        return Ok(0);
    }
    println!("UID        PID  PPID  C STIME TTY          TIME CMD");
    for r in container::ps_rows(&pids) {
        println!(
            "{:<8} {:>5} {:>5} {:>2} {:<5} {:<8} {:>8} {}",
            r.user, r.pid, r.ppid, r.cpu, r.stime, r.tty, r.time, r.cmd
        );
    }
    Ok(0)
}
