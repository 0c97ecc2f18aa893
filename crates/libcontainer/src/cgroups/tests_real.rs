//! Real-host tests: create a cgroup under a unique prefix, limits, freeze a child, devices, OOM, destroy.
