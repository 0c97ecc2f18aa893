#!/bin/bash
# tests/clients/containerd.sh: containerd 1.6 (ctr -> containerd -> containerd-shim-runc-v2)
# driving brig, scenario by scenario, with runc from Debian run through the same scenarios first.
#
# A private containerd daemon: config.toml, root, state and the grpc/ttrpc sockets under $WORK,
# the CRI plugin and the snapshotters we do not use disabled. containerd 1.6 hard-codes
# /run/containerd for the shims' sockets (/run/containerd/s) and for the runc shim's default
# --root (/run/containerd/runc), so the daemon runs in a private mount namespace where $WORK/run
# is bind-mounted over /run: nothing of ours lands in the machine's /run. Its shims inherit that
# namespace; so do the containers' rootfs mounts, which vanish with it. ctr itself runs in the
# machine's namespace: every ctr call that makes I/O fifos gets --fifo-dir under $WORK.
#
# How the shim finds the runtime (containerd 1.6 has no BinaryName in its own config outside
# the CRI plugin):
#   * per call: `ctr run --runc-binary $RTBIN --runc-root $RTROOT` (runc options BinaryName and
#     Root); most scenarios.
#   * no runtime options (`ctr container create`, or the second runtime handler
#     io.containerd.brig.v2 whose shim binary is containerd-shim-brig-v2 on the daemon's PATH):
#     the shim runs `runc` from the daemon's PATH with --root /run/containerd/runc/<ns>.
#     $WORK/bin leads that PATH; use_path_runtime makes $WORK/bin/runc a wrapper that logs its
#     arguments to $PATH_LOG and execs $RTBIN. Otherwise $WORK/bin/runc refuses to run (so no
#     scenario can test Debian's runc in brig's pass by mistake). ctr drops the runtime options
#     of `ctr run` whenever it sends task options (--uidmap/--gidmap: IoUid/IoGid, --no-pivot):
#     those scenarios use the PATH runtime too.
# The image is a busybox-static rootfs packed here as an OCI layout tarball and `ctr image
# import`ed: no registry, no network. Containers get cgroups under /$CGROUP_PARENT (--cgroup).
source "$(dirname "$0")/lib.sh"

IMAGE=localhost/brig-bb:latest
CTRD=$WORK/ctrd
RTROOT=$WORK/rt-root
FIFO=$WORK/fifo
export CONTAINERD_ADDRESS=$CTRD/containerd.sock
export CONTAINERD_NAMESPACE=brigtest
PATH_LOG=$WORK/path-runtime.log
mkdir -p "$CTRD" "$WORK/run" "$WORK/bin" "$RTROOT" "$FIFO"
# A user-namespaced container's root (an unprivileged uid on the host) walks to its rootfs
# under $WORK.
chmod 755 "$WORK"

# --- the image ----------------------------------------------------------------------------
rootfs=$WORK/image-rootfs
make_rootfs "$rootfs"

# OCI image layout: blobs/sha256/<digest> for the layer tar, the config and the manifest.
oci=$WORK/oci
mkdir -p "$oci/blobs/sha256"
oci_blob() {
    local d
    d=$(sha256sum "$1" | cut -d' ' -f1)
    mv "$1" "$oci/blobs/sha256/$d"
    echo "$d"
}
oci_size() { stat -c %s "$oci/blobs/sha256/$1"; }
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$oci/layer.tar" .
layer=$(oci_blob "$oci/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer" >"$oci/config.json"
config=$(oci_blob "$oci/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(oci_size "$config")" "$layer" "$(oci_size "$layer")" >"$oci/manifest.json"
manifest=$(oci_blob "$oci/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
    "$manifest" "$(oci_size "$manifest")" "$IMAGE" >"$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
tar -C "$oci" -cf "$WORK/image.tar" oci-layout index.json blobs

# --- the daemon ---------------------------------------------------------------------------
cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "$CTRD/containerd.sock"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
EOF
# The second runtime handler: io.containerd.brig.v2 -> containerd-shim-brig-v2 on PATH.
# `runc` on PATH: refuses until a scenario asks for it (use_path_runtime).
no_path_runtime() {
    printf '#!/bin/sh\necho "runc on PATH called but no scenario asked for it: $*" >&2\nexit 1\n' >"$WORK/bin/runc.new"
    chmod +x "$WORK/bin/runc.new"
    mv "$WORK/bin/runc.new" "$WORK/bin/runc"
}
no_path_runtime
ln -s "$(command -v containerd-shim-runc-v2)" "$WORK/bin/containerd-shim-brig-v2"

# Did /run/containerd exist before us? (It must not appear because of us.)
had_run_containerd=0
[ -e /run/containerd ] && had_run_containerd=1

# The shims reparent to us (the subreaper); they are found by their -address argument.
our_shims() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "-address $CTRD/containerd.sock " && echo "${p#/proc/}"
    done
    return 0
}
stop_daemon() {
    local pid=$1 i s
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for s in $(our_shims); do kill -9 "$s" 2>/dev/null || true; done
    for ((i = 0; i < 50; i++)); do
        [ -z "$(our_shims)" ] && break
        sleep 0.1
    done
}
# Every task and container of ours, gone (the daemon still up).
remove_all() {
    local id
    for id in $(timeout -k 5 20 ctr task ls -q 2>/dev/null); do
        timeout -k 5 20 ctr task kill -a -s SIGKILL "$id" 2>/dev/null || true
    done
    for id in $(timeout -k 5 20 ctr task ls -q 2>/dev/null); do
        timeout -k 5 20 ctr task rm -f "$id" 2>/dev/null || true
    done
    for id in $(timeout -k 5 20 ctr container ls -q 2>/dev/null); do
        timeout -k 5 20 ctr container rm "$id" 2>/dev/null || true
    done
}

PATH=$WORK/bin:$PATH unshare -m --propagation private \
    sh -c 'mount --bind "$1/run" /run && exec containerd --config "$2"' sh "$WORK" "$CTRD/config.toml" \
    </dev/null >"$WORK/logs/containerd.log" 2>&1 &
CTRD_PID=$!
suite_on_exit "if [ $had_run_containerd = 0 ] && [ -e /run/containerd ]; then echo 'LEAK: /run/containerd appeared' >&2; rmdir /run/containerd/fifo /run/containerd; fi"
suite_on_exit "stop_daemon $CTRD_PID"
suite_on_exit remove_all
wait_for "containerd to serve" 30 ctr version
timeout -k 5 60 ctr image import "$WORK/image.tar" >/dev/null || { echo "ctr image import failed" >&2; exit 1; }

# --- helpers for the scenarios ------------------------------------------------------------
# ctr with a time bound.
c() { timeout -k 5 60 ctr "$@"; }
# The per-call runtime options of the scenario's runtime.
rtopts() { echo "--runc-binary $RTBIN --runc-root $RTROOT"; }
# ids ID...: the scenario's containers, removed (task killed) when it ends.
ids() {
    local id
    for id in "$@"; do on_exit "rm_ctr $id"; done
}
# cr ID [ctr run flags...] -- CMD...: `ctr run` of $IMAGE as ID, with our fifo dir, cgroup and
# runtime.
cr() {
    local id=$1 flags=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        flags+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    timeout -k 5 60 ctr run --fifo-dir "$FIFO" --cgroup "/$CGROUP_PARENT/$id" $(rtopts) "${flags[@]}" "$IMAGE" "$id" "$@"
}
# crd ID [flags...] -- CMD...: detached run, then wait until the task runs.
crd() {
    local id=$1
    shift
    cr "$id" -d "$@"
    wait_for "$id running" 30 task_is "$id" RUNNING
}
# ce [ctr task exec flags...] ID CMD...: exec with our fifo dir.
ce() { timeout -k 5 60 ctr task exec --fifo-dir "$FIFO" "$@"; }
rm_ctr() {
    c task kill -a -s SIGKILL "$1" 2>/dev/null || true
    c task rm -f "$1" 2>/dev/null || true
    c container rm "$1" 2>/dev/null || true
}
# task_status ID: RUNNING / STOPPED / PAUSED / CREATED ... ('' if no task)
task_status() { c task ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { c task ls | awk -v id="$1" '$1 == id { print $2 }'; }
task_is() { [ "$(task_status "$1")" = "$2" ]; }
# The runtime's own view: `$RTBIN state` with the root the shim gave it.
rt_state() { "$RTBIN" --root "${2:-$RTROOT/$CONTAINERD_NAMESPACE}" state "$1"; }
rt_status() { rt_state "$@" | jq -r .status; }
# Let the shim find the scenario's runtime as `runc` on the daemon's PATH, its calls logged to
# $PATH_LOG (emptied here), until the scenario ends.
use_path_runtime() {
    : >"$PATH_LOG"
    printf '#!/bin/sh\necho "$*" >>%s\nexec %s "$@"\n' "$PATH_LOG" "$RTBIN" >"$WORK/bin/runc.new"
    chmod +x "$WORK/bin/runc.new"
    mv "$WORK/bin/runc.new" "$WORK/bin/runc"
    on_exit no_path_runtime
}
# The container's cgroup directory holding a controller's files (v1 hierarchy or cgroup2).
cgdir() { cg_dir "$1" "/$CGROUP_PARENT/$2"; }
# A full OCI spec for `ctr run/create --config`: runc's default spec, rootfs = the image rootfs
# (read-only, shared by the containers: a tmpfs on /tmp), our cgroup; $3 = a jq filter applied
# last.
make_spec() {
    local id=$1 out=$2 filter=${3:-.}
    (cd "$WORK" && rm -f config.json && "$RUNC" spec && mv config.json "$out.tmp")
    jq --arg root "$rootfs" --arg cg "/$CGROUP_PARENT/$id" \
        '.root = {path: $root, readonly: true} | .process.terminal = false | .linux.cgroupsPath = $cg
         | .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}] | '"$filter" \
        "$out.tmp" >"$out"
    rm -f "$out.tmp"
}

# --- scenarios: containerd.d/*.sh, in name order ------------------------------------------
for f in "$CLIENTS_DIR"/containerd.d/*.sh; do
    source "$f"
done

run_suite
