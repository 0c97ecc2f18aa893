//! brig's log: runc-style records to `--log FILE` (or stderr) as text or JSON lines.
//!
//! A tiny `tracing` subscriber, synchronous and thread-free (brig forks its init, so no background
//! writer threads). JSON records are `{"level":"error","msg":"...","time":"RFC3339"}`, the shape
//! containerd's shim and podman's conmon parse.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

enum Sink {
    Stderr,
    File(File),
}

/// Where log records go and how they look.
pub struct Logger {
    format: Format,
    max: Level,
    sink: Mutex<Sink>,
}

impl Logger {
    /// `path` None logs to stderr. `debug` lowers the threshold from info to debug.
    pub fn new(
        path: Option<&std::path::Path>,
        format: Format,
        debug: bool,
    ) -> std::io::Result<Logger> {
        let sink = match path {
            Some(p) => Sink::File(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => Sink::Stderr,
        };
        Ok(Logger {
            format,
            max: if debug { Level::DEBUG } else { Level::INFO },
            sink: Mutex::new(sink),
        })
    }

    /// Whether records go to a file (then errors are also echoed to stderr by the CLI).
    pub fn to_file(&self) -> bool {
        matches!(
            *self.sink.lock().unwrap_or_else(|e| e.into_inner()),
            Sink::File(_)
        )
    }

    /// Write one record directly (also used for lines the init sends over the sync socket).
    pub fn write(&self, level: Level, msg: &str) {
        let line = render(self.format, level, msg, &crate::time::now_rfc3339());
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = match &mut *sink {
            Sink::Stderr => std::io::stderr().write_all(line.as_bytes()),
            Sink::File(f) => f.write_all(line.as_bytes()),
        };
    }
}

/// One record, newline-terminated.
pub fn render(format: Format, level: Level, msg: &str, time: &str) -> String {
    let level = level.as_str().to_ascii_lowercase();
    match format {
        Format::Json => {
            let rec = serde_json::json!({ "level": level, "msg": msg, "time": time });
            format!("{rec}\n")
        }
        Format::Text => format!(
            "time=\"{time}\" level={level} msg={}\n",
            serde_json::Value::from(msg)
        ),
    }
}

struct MsgVisitor(String);

impl Visit for MsgVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut v = MsgVisitor(String::new());
        event.record(&mut v);
        self.write(*event.metadata().level(), &v.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_record_shape() {
        let line = render(
            Format::Json,
            Level::ERROR,
            "container \"x\" does not exist",
            "2026-01-01T00:00:00Z",
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "container \"x\" does not exist");
        assert_eq!(v["time"], "2026-01-01T00:00:00Z");
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let text = render(Format::Text, Level::WARN, "a b", "t");
        assert_eq!(text, "time=\"t\" level=warn msg=\"a b\"\n");
    }
}
