#!/bin/bash
# tests/clients/podman.sh: podman 4.3 (through conmon) driving brig, scenario by scenario, with
# runc from Debian run through the same scenarios first. Private everything: containers.conf and
# storage.conf under $WORK (CONTAINERS_CONF / CONTAINERS_STORAGE_CONF), graph and run roots under
# $WORK, cgroups under /$CGROUP_PARENT (cgroupfs manager), no events journal, no network by
# default. The image is a busybox-static rootfs imported with `podman import`.
#
# This machine's hard RLIMIT_NOFILE is 20000 and the bounding set lacks CAP_SYS_RESOURCE, while
# podman 4.3 as root asks for nofile/nproc of 1048576 by default: containers.conf sets
# default_ulimits within the hard limits (runc fails the same way without it).
source "$(dirname "$0")/lib.sh"

export CONTAINERS_CONF=$WORK/containers.conf
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
export XDG_RUNTIME_DIR=$WORK/xdg
export TMPDIR=$WORK/tmp
IMAGE=localhost/brig-bb:latest
mkdir -p "$XDG_RUNTIME_DIR" "$TMPDIR"

cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$WORK/libpod-tmp"
volume_path = "$WORK/volumes"
runtime = "runc"
runtime_supports_json = ["crun", "runc", "brig"]
[engine.runtimes]
brig = ["$BRIG"]
runc = ["$RUNC"]
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "vfs"
runroot = "$WORK/runroot"
graphroot = "$WORK/root"
EOF
echo 'unqualified-search-registries = []' >"$CONTAINERS_REGISTRIES_CONF"

# Every podman call of the suite: bounded in time, with the scenario's runtime.
pm() { timeout 120 podman "$@"; }
pmr() { timeout 120 podman --runtime "$RT" "$@"; }
# A container's options every scenario wants: our cgroup parent.
CG="--cgroup-parent /$CGROUP_PARENT"

suite_on_exit 'timeout 60 podman rm -a -f -t 0'
suite_on_exit 'timeout 60 podman system reset -f'
rootfs=$WORK/image-rootfs
make_rootfs "$rootfs"
tar -C "$rootfs" -cf "$WORK/rootfs.tar" .
pm import -q "$WORK/rootfs.tar" "$IMAGE" >/dev/null || { echo "podman import failed" >&2; exit 1; }

# --- scenarios: podman.d/*.sh, in name order ------------------------------------------------
for f in "$CLIENTS_DIR"/podman.d/*.sh; do
    source "$f"
done

run_suite
