//! cgroups: placeholder, filled by the cgroups work (issue 4).
