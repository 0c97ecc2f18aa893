#!/bin/bash
# tests-v2vm.sh — run the cgroups tests (fake-cgroupfs unit tests and the real-host tests in
# tests_real.rs) on a pure cgroup v2 kernel, or with --v1 on a pure cgroup v1 one.
#
# usage: crates/libcontainer/src/cgroups/tests-v2vm.sh [--v1|--hybrid] [TEST_FILTER]   (default: cgroups::)
#
# --v1: inside the VM, hand every controller back from cgroup2, unmount it and mount one v1 hierarchy
# per controller (cpu,cpuacct cpuset memory devices freezer blkio pids hugetlb net_cls,net_prio rdma
# perf_event): a pure v1 host on a real kernel.
# --hybrid: the same, but hugetlb stays in cgroup2, mounted at /sys/fs/cgroup/unified (this dev VM's
# layout). The guest's cgroups are all the tests', so BRIG_CGTEST_OWN_ROOT=1 lets them delegate
# controllers at the unified root, which they never do on a shared host.
#
# On a host that is already pure cgroup v2 (e.g. inside the project's VM test bed) and without --v1,
# it runs the test binary directly. Otherwise it builds the libcontainer test binary on this host and runs it through
# /work/shared/tools/v2vm.sh (override with V2VM), a throwaway qemu VM whose only hierarchy is cgroup2
# with every controller enabled at the root. The host's root is shared read-only, so the binary runs in
# place. Exit status: the test binary's (v2vm.sh: 124 timeout, 125 VM failure).
# env: CARGO_TARGET_DIR (default <repo>/target), TEST_BIN (skip the build: use this binary).
set -euo pipefail

LAYOUT=v2
case "${1:-}" in
    --v1) LAYOUT=v1; shift ;;
    --hybrid) LAYOUT=hybrid; shift ;;
esac
FILTER=${1:-cgroups::}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)

is_pure_v2() {
    [ -f /sys/fs/cgroup/cgroup.controllers ] && ! grep -q ' - cgroup cgroup ' /proc/self/mountinfo
}

if [ -z "${TEST_BIN:-}" ]; then
    cd "$REPO"
    TEST_BIN=$(cargo test -p libcontainer --lib --no-run --message-format=json 2>/dev/null \
        | jq -r 'select(.reason == "compiler-artifact" and .target.name == "libcontainer"
                        and .profile.test == true) | .executable' | tail -n1)
    [ -x "$TEST_BIN" ] || { echo "tests-v2vm: could not build the libcontainer test binary" >&2; exit 1; }
fi

if [ "$LAYOUT" = v2 ] && is_pure_v2; then
    exec "$TEST_BIN" "$FILTER" --test-threads=2
fi

V2VM=${V2VM:-/work/shared/tools/v2vm.sh}
[ -x "$V2VM" ] || { echo "tests-v2vm: not a pure cgroup v2 host and no $V2VM to boot one" >&2; exit 1; }
INNER=$(mktemp -d)
trap 'rm -rf "$INNER"' EXIT
cat >"$INNER/cgroups-v2.sh" <<EOF
#!/bin/sh
set -e
echo "guest: \$(uname -r), cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
# A block device for the io.max test (the VM has none): a 1 MiB ramdisk, /dev/ram0 = 1:0.
modprobe brd rd_nr=1 rd_size=1024 || echo "guest: no brd module, the io test will say so"
if [ "$LAYOUT" != v2 ]; then
    V1="cpu,cpuacct cpuset memory devices freezer blkio pids net_cls,net_prio rdma perf_event"
    [ "$LAYOUT" = v1 ] && V1="\$V1 hugetlb"
    echo "-cpuset -cpu -io -memory -hugetlb -pids -rdma -misc" >/sys/fs/cgroup/cgroup.subtree_control
    umount /sys/fs/cgroup
    mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
    for c in \$V1; do
        mkdir -p /sys/fs/cgroup/\$c
        mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c
    done
    if [ "$LAYOUT" = hybrid ]; then
        mkdir -p /sys/fs/cgroup/unified
        mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
        export BRIG_CGTEST_OWN_ROOT=1
        echo "guest: hybrid, cgroup2 offers: \$(cat /sys/fs/cgroup/unified/cgroup.controllers)"
    fi
    echo "guest: \$(grep -c ' - cgroup cgroup ' /proc/self/mountinfo) v1 hierarchies"
fi
cd /tmp
exec "$TEST_BIN" "$FILTER" --test-threads=2
EOF
chmod +x "$INNER/cgroups-v2.sh"
rc=0
"$V2VM" "$INNER/cgroups-v2.sh" || rc=$?
exit $rc
