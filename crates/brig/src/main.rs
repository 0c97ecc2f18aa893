//! brig: a runc-compatible OCI runtime CLI. Parses the command line, calls libcontainer, prints
//! one line on error (also to `--log` as a JSON record when asked) and exits non-zero.

mod commands;

use clap::{Parser, Subcommand};
use libcontainer::logging::{Format, Logger};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "brig",
    about = "brig: a fast, runc-compatible OCI container runtime",
    disable_version_flag = true
)]
pub struct Cli {
    /// Root directory for container state
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Log file (default: stderr)
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Enable debug logging
    #[arg(long, global = true)]
    pub debug: bool,
    /// Use systemd to manage cgroups
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: true, false or auto
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub rootless: Option<String>,
    /// Path to criu (accepted for runc compatibility; checkpoint is not supported)
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
    /// Print the version
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Create(commands::create::Args),
    Start(commands::start::Args),
    State(commands::state::Args),
    Kill(commands::kill::Args),
    Delete(commands::delete::Args),
    Run(commands::run::Args),
    List(commands::list::Args),
    Spec(commands::spec::Args),
    Pause(commands::pause::Args),
    Resume(commands::resume::Args),
    Ps(commands::ps::Args),
    Events(commands::events::Args),
    Update(Box<commands::update::Args>),
    Features(commands::features::Args),
    Exec(commands::exec::Args),
}

/// What every command gets besides its own arguments.
pub struct Ctx {
    pub root: PathBuf,
    pub logger: Logger,
    pub systemd_cgroup: bool,
    pub rootless: bool,
}

impl Ctx {
    pub fn log(&self, level: tracing::Level, msg: &str) {
        self.logger.write(level, msg);
    }

    /// Report a failure the way `main` does (stderr, and the log file when there is one), for
    /// commands that choose their own exit code.
    pub fn fail(&self, msg: &str) {
        let msg = msg.replace('\n', " ");
        if self.logger.to_file() {
            self.log(tracing::Level::ERROR, &msg);
        }
        eprintln!("brig: {msg}");
    }
}

fn default_root() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/run/brig");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("brig"),
        _ => PathBuf::from(format!("/tmp/brig-{}", nix::unistd::geteuid())),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's first line without the "error: " prefix.
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("brig: {first}");
            return ExitCode::from(1);
        }
    };
    if cli.version {
        println!("brig version {}", env!("CARGO_PKG_VERSION"));
        println!(
            "commit: {}",
            option_env!("BRIG_COMMIT").unwrap_or("unknown")
        );
        println!("spec: {}", libcontainer::state::OCI_VERSION);
        return ExitCode::SUCCESS;
    }
    let format = if cli.log_format == "json" {
        Format::Json
    } else {
        Format::Text
    };
    let logger = match Logger::new(cli.log.as_deref(), format, cli.debug) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "brig: open log file `{}`: {e}",
                cli.log.as_deref().unwrap_or("".as_ref()).display()
            );
            return ExitCode::from(1);
        }
    };
    let rootless = match cli.rootless.as_deref() {
        Some("true") => true,
        Some("false") | None => false,
        Some("auto") => !nix::unistd::geteuid().is_root(),
        Some(other) => {
            eprintln!("brig: invalid value `{other}` for --rootless (true, false or auto)");
            return ExitCode::from(1);
        }
    };
    let ctx = Ctx {
        root: cli.root.clone().unwrap_or_else(default_root),
        logger,
        systemd_cgroup: cli.systemd_cgroup,
        rootless,
    };
    let Some(command) = cli.command else {
        eprintln!("brig: no command given (try `brig --help`)");
        return ExitCode::from(1);
    };
    let result = match command {
        Command::Create(a) => commands::create::run(&ctx, a),
        Command::Start(a) => commands::start::run(&ctx, a),
        Command::State(a) => commands::state::run(&ctx, a),
        Command::Kill(a) => commands::kill::run(&ctx, a),
        Command::Delete(a) => commands::delete::run(&ctx, a),
        Command::Run(a) => commands::run::run(&ctx, a),
        Command::List(a) => commands::list::run(&ctx, a),
        Command::Spec(a) => commands::spec::run(&ctx, a),
        Command::Pause(a) => commands::pause::run(&ctx, a),
        Command::Resume(a) => commands::resume::run(&ctx, a),
        Command::Ps(a) => commands::ps::run(&ctx, a),
        Command::Events(a) => commands::events::run(&ctx, a),
        Command::Update(a) => commands::update::run(&ctx, *a),
        Command::Features(a) => commands::features::run(&ctx, a),
        Command::Exec(a) => commands::exec::run(&ctx, a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            ctx.fail(&msg);
            ExitCode::from(1)
        }
    }
}
