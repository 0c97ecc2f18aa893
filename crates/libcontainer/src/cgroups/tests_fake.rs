//! Unit tests of the cgroup manager against a fake cgroupfs in a temp dir (v1, v2, hybrid).
