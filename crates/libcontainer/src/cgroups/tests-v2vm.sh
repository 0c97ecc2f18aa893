#!/bin/bash
# tests-v2vm.sh — run the cgroups tests (fake-cgroupfs unit tests and the real-host tests in
# tests_real.rs) on a pure cgroup v2 kernel.
#
# usage: crates/libcontainer/src/cgroups/tests-v2vm.sh [TEST_FILTER]     (default filter: cgroups::)
#
# On a host that is already pure cgroup v2 (e.g. inside the project's VM test bed), it runs the test
# binary directly. Otherwise it builds the libcontainer test binary on this host and runs it through
# /work/shared/tools/v2vm.sh (override with V2VM), a throwaway qemu VM whose only hierarchy is cgroup2
# with every controller enabled at the root. The host's root is shared read-only, so the binary runs in
# place. Exit status: the test binary's (v2vm.sh: 124 timeout, 125 VM failure).
# env: CARGO_TARGET_DIR (default <repo>/target), TEST_BIN (skip the build: use this binary).
set -euo pipefail

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

if is_pure_v2; then
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
cd /tmp
exec "$TEST_BIN" "$FILTER" --test-threads=2
EOF
chmod +x "$INNER/cgroups-v2.sh"
exec "$V2VM" "$INNER/cgroups-v2.sh"
