//! The bundle's `config.json`: load it, name the exact field when it is malformed, and check what
//! brig needs before anything is created (so bad input leaves nothing behind).

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("bundle `{path}`: {source}")]
    Bundle {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parse `{path}`: field `{field}`: {message}")]
    Parse {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("config.json: {field}: {why}")]
    Invalid { field: String, why: String },
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// A loaded, checked config plus where it came from.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    /// `root.path` made absolute (relative paths are relative to the bundle).
    pub rootfs: PathBuf,
    /// config.json as read (brig keeps a copy in the state dir for start, exec and delete).
    pub raw: Vec<u8>,
}

/// Read `<dir>/config.json` and check it. `dir` is made absolute.
pub fn load_bundle(dir: &Path) -> Result<Bundle, SpecError> {
    let dir = std::fs::canonicalize(dir).map_err(|source| SpecError::Bundle {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join("config.json");
    let bytes = std::fs::read(&path).map_err(|source| SpecError::Read {
        path: path.clone(),
        source,
    })?;
    let spec = parse(&bytes).map_err(|(field, message)| SpecError::Parse {
        path: path.clone(),
        field,
        message,
    })?;
    let rootfs = validate(&spec, &dir)?;
    Ok(Bundle {
        dir,
        spec,
        rootfs,
        raw: bytes,
    })
}

/// Parse JSON into a spec; on failure return the JSON path of the offending field and the reason.
pub fn parse(bytes: &[u8]) -> Result<Spec, (String, String)> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." || field == "?" {
            "(document)".to_string()
        } else {
            field
        };
        (field, e.into_inner().to_string())
    })
}

/// Check what serde cannot: versions, required fields, consistency. Returns the absolute rootfs.
pub fn validate(spec: &Spec, bundle: &Path) -> Result<PathBuf, SpecError> {
    let version = spec.version();
    let major = version.split('.').next().unwrap_or("");
    if major != "1" {
        return Err(invalid(
            "ociVersion",
            format!("unsupported version `{version}` (brig supports 1.x)"),
        ));
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| invalid("root", "missing"))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    match std::fs::metadata(&rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(invalid(
                "root.path",
                format!("`{}` is not a directory", rootfs.display()),
            ))
        }
        Err(e) => return Err(invalid("root.path", format!("`{}`: {e}", rootfs.display()))),
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| invalid("process", "missing"))?;
    match process.args() {
        Some(args) if !args.is_empty() && !args[0].is_empty() => {}
        _ => {
            return Err(invalid(
                "process.args",
                "must name at least the program to run",
            ))
        }
    }
    if !process.cwd().is_absolute() {
        return Err(invalid(
            "process.cwd",
            format!("`{}` is not an absolute path", process.cwd().display()),
        ));
    }
    if let Some(linux) = spec.linux() {
        let mut seen = Vec::new();
        let namespaces = linux.namespaces().as_deref().unwrap_or_default();
        for (i, ns) in namespaces.iter().enumerate() {
            if seen.contains(&ns.typ()) {
                return Err(invalid(
                    format!("linux.namespaces[{i}]"),
                    format!("namespace type `{}` listed twice", ns.typ()),
                ));
            }
            seen.push(ns.typ());
            if let Some(p) = ns.path() {
                if !p.is_absolute() {
                    return Err(invalid(
                        format!("linux.namespaces[{i}].path"),
                        format!("`{}` is not absolute", p.display()),
                    ));
                }
            }
        }
        let new_user = namespaces
            .iter()
            .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none());
        let has_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
            || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
        if new_user && !has_maps {
            return Err(invalid(
                "linux.uidMappings",
                "a new user namespace needs uidMappings and gidMappings",
            ));
        }
        if !new_user
            && has_maps
            && !namespaces
                .iter()
                .any(|n| n.typ() == LinuxNamespaceType::User)
        {
            return Err(invalid(
                "linux.uidMappings",
                "id mappings given without a user namespace",
            ));
        }
        if let Some(p) = linux.rootfs_propagation() {
            if ![
                "",
                "private",
                "rprivate",
                "slave",
                "rslave",
                "shared",
                "rshared",
                "unbindable",
                "runbindable",
            ]
            .contains(&p.as_str())
            {
                return Err(invalid(
                    "linux.rootfsPropagation",
                    format!("unknown propagation `{p}`"),
                ));
            }
        }
        if let Some(sysctl) = linux.sysctl() {
            for key in sysctl.keys() {
                if key.is_empty() || key.contains("..") {
                    return Err(invalid(format!("linux.sysctl.{key}"), "invalid key"));
                }
            }
        }
    }
    if let Some(mounts) = spec.mounts() {
        for (i, m) in mounts.iter().enumerate() {
            if !m.destination().is_absolute() {
                return Err(invalid(
                    format!("mounts[{i}].destination"),
                    format!("`{}` is not absolute", m.destination().display()),
                ));
            }
        }
    }
    Ok(rootfs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_the_field() {
        let (field, msg) = parse(br#"{"ociVersion":"1.0.2","process":{"args":"sh"}}"#).unwrap_err();
        assert_eq!(field, "process.args");
        assert!(msg.contains("expected a sequence"), "{msg}");
        let (field, _) =
            parse(br#"{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"bogus"}]}}"#)
                .unwrap_err();
        assert_eq!(field, "linux.namespaces[0].type");
        let (field, _) = parse(b"{not json").unwrap_err();
        assert_eq!(field, "(document)");
    }

    fn spec_with(json: &str) -> Spec {
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn validate_reports_fields() {
        let tmp = crate::testutil::TempDir::new("spec-test");
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let ok = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"}}"#;
        assert_eq!(validate(&spec_with(ok), &dir).unwrap(), dir.join("rootfs"));
        let cases = [
            (
                r#"{"ociVersion":"2.0.0","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"}}"#,
                "ociVersion",
            ),
            (
                r#"{"ociVersion":"1.0.2","root":{"path":"nope"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"}}"#,
                "root.path",
            ),
            (
                r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":[],"cwd":"/"}}"#,
                "process.args",
            ),
            (
                r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"x"}}"#,
                "process.cwd",
            ),
            (
                r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}"#,
                "linux.namespaces[1]",
            ),
            (
                r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"user"}]}}"#,
                "linux.uidMappings",
            ),
        ];
        for (json, field) in cases {
            match validate(&spec_with(json), &dir) {
                Err(SpecError::Invalid { field: f, .. }) => assert_eq!(f, field, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
