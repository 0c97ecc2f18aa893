//! The five capability sets of `process.capabilities`, resolved to the kernel's list before the
//! clone and applied in the init around the uid switch.

use caps::{CapSet, Capability, CapsHashSet};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    #[error("{step} {set:?}: {source}")]
    Apply {
        step: &'static str,
        set: CapSet,
        source: caps::errors::CapsError,
    },
}

/// The sets to apply. Unknown names (or names this kernel lacks) are left out with a warning.
#[derive(Debug, Clone, Default)]
pub struct CapPlan {
    pub bounding: CapsHashSet,
    pub effective: CapsHashSet,
    pub inheritable: CapsHashSet,
    pub permitted: CapsHashSet,
    pub ambient: CapsHashSet,
}

impl CapPlan {
    /// Resolve names from the spec. Returns the plan and the warnings for skipped names.
    pub fn from_spec(c: &oci_spec::runtime::LinuxCapabilities) -> (CapPlan, Vec<String>) {
        let supported = caps::runtime::thread_all_supported();
        let mut warnings = Vec::new();
        let mut conv = |field: &str,
                        set: &Option<oci_spec::runtime::Capabilities>|
         -> CapsHashSet {
            let mut out = CapsHashSet::new();
            for cap in set.iter().flatten() {
                // oci-spec's Display gives e.g. `CAP_SYS_ADMIN`.
                let name = cap.to_string();
                let name = if name.starts_with("CAP_") {
                    name
                } else {
                    format!("CAP_{name}")
                };
                match Capability::from_str(&name) {
                    Ok(c) if supported.contains(&c) => {
                        out.insert(c);
                    }
                    _ => warnings.push(format!("process.capabilities.{field}: `{name}` is not supported by this kernel, skipped")),
                }
            }
            out
        };
        let plan = CapPlan {
            bounding: conv("bounding", c.bounding()),
            effective: conv("effective", c.effective()),
            inheritable: conv("inheritable", c.inheritable()),
            permitted: conv("permitted", c.permitted()),
            ambient: conv("ambient", c.ambient()),
        };
        (plan, warnings)
    }

    /// Before the uid switch: shrink the bounding set (needs CAP_SETPCAP, which we still have).
    pub fn drop_bounding(&self) -> Result<(), CapsError> {
        for cap in caps::runtime::thread_all_supported() {
            if !self.bounding.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap).map_err(|source| CapsError::Apply {
                    step: "drop",
                    set: CapSet::Bounding,
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// After the uid switch (done with PR_SET_KEEPCAPS): set the remaining sets exactly.
    pub fn apply(&self) -> Result<(), CapsError> {
        let set = |s: CapSet, v: &CapsHashSet| {
            caps::set(None, s, v).map_err(|source| CapsError::Apply {
                step: "set",
                set: s,
                source,
            })
        };
        // Permitted must hold everything in effective/inheritable first; set it last to shrink.
        let mut wide = self.permitted.clone();
        wide.extend(self.effective.iter().copied());
        set(CapSet::Effective, &self.effective).or_else(|_| {
            // Effective may not exceed permitted: widen permitted temporarily.
            set(CapSet::Permitted, &wide)?;
            set(CapSet::Effective, &self.effective)
        })?;
        set(CapSet::Inheritable, &self.inheritable)?;
        set(CapSet::Permitted, &self.permitted)?;
        // Ambient needs each cap in permitted and inheritable; the kernel refuses others.
        caps::clear(None, CapSet::Ambient).map_err(|source| CapsError::Apply {
            step: "clear",
            set: CapSet::Ambient,
            source,
        })?;
        for cap in &self.ambient {
            if self.permitted.contains(cap) && self.inheritable.contains(cap) {
                caps::raise(None, CapSet::Ambient, *cap).map_err(|source| CapsError::Apply {
                    step: "raise",
                    set: CapSet::Ambient,
                    source,
                })?;
            }
        }
        Ok(())
    }
}

/// Names of the capabilities this kernel supports, for `brig features`.
pub fn known() -> Vec<String> {
    let mut v: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_caps_are_warned_and_skipped() {
        let c: oci_spec::runtime::LinuxCapabilities = serde_json::from_str(
            r#"{"bounding":["CAP_CHOWN","CAP_KILL"],"effective":["CAP_CHOWN"],"ambient":[]}"#,
        )
        .unwrap();
        let (p, w) = CapPlan::from_spec(&c);
        assert!(p.bounding.contains(&Capability::CAP_KILL) && p.effective.len() == 1);
        assert!(w.is_empty(), "{w:?}");
    }
}
