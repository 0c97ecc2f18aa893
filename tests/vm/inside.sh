#!/bin/bash
# tests/vm/inside.sh — the default test command of tests/vm/run.sh, run inside the VM once per cgroup layout.
#
# Each test prints one line, "ok NAME (Ts)" or "FAIL NAME (Ts): LOG" followed by the last 30 lines of its log,
# and may print notes ("  NAME: ...") on the way; its full output is in $BRIG_VM_OUT/NAME.log, which the host
# keeps (<repo>/target/vm/LAYOUT/ by default). The last line is "LAYOUT: N passed, N failed"; exit 1 if any failed.
# Tests, in this order:
#   layout          the cgroup mounts are exactly those of $BRIG_VM_LAYOUT; notes the controllers seen
#   make-test-host  `make -C $BRIG_VM_REPO test-host`, only if the Makefile has that target
#   PKG.TARGET      each line "EXECUTABLE PACKAGE_DIR" of the file $BRIG_VM_TEST_LIST (written on the host by
#                   tests/vm/build-tests.sh), run as `cargo test` would: cwd PACKAGE_DIR, CARGO_MANIFEST_DIR set;
#                   named after the package dir and the executable without its hash (libcontainer.libcontainer)
#   <binary name>   each executable in $BRIG_VM_TEST_BINS (space-separated paths)
#                   both with the arguments in $BRIG_VM_TEST_ARGS (e.g. "--test-threads=1")
#   runc-smoke      runc runs a busybox bundle with memory and pids limits; the values are read back from
#   crun-smoke      the container's cgroup files, outside and inside; then the time of a trivial `run`
# Add a test: write a function that returns non-zero on failure and call `run_test NAME FUNCTION [ARGS...]`.
# Runs on the host too (as root), but there it uses the host's cgroups: meant for the VM.
set -u
: "${BRIG_VM_LAYOUT:?run me through tests/vm/run.sh}" "${BRIG_VM_OUT:?}"
REPO=${BRIG_VM_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
L=$BRIG_VM_LAYOUT
PASSED=0
FAILED=0
FAILED_NAMES=()
TIMEFORMAT=%R

# ---------------------------------------------------------------- harness
note() { echo "  $TEST: $*" >&3; }

run_test() { # NAME FUNCTION [ARGS...]
  TEST=$1; shift
  local log=$BRIG_VM_OUT/$TEST.log t0 t1 rc
  t0=$(date +%s.%N)
  ("$@") 3>&4 >"$log" 2>&1 </dev/null
  rc=$?
  t1=$(date +%s.%N)
  local dt; dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc = 0 ]; then
    PASSED=$((PASSED + 1)); echo "ok $TEST (${dt}s)"
  else
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("$TEST")
    echo "FAIL $TEST (${dt}s, rc $rc): $log"
    tail -n 30 "$log" | sed 's/^/    | /'
  fi
}

# ---------------------------------------------------------------- cgroup helpers
# "MOUNTPOINT FSTYPE SUPEROPTS" of every cgroup mount
cg_mounts() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) ~ /^cgroup2?$/) print $5, $(i+1), $(i+3); break } }' \
    /proc/self/mountinfo
}

# cg_file PID CONTROLLER V1FILE V2FILE: the file of PID's cgroup that holds CONTROLLER's setting
cg_file() {
  local pid=$1 ctl=$2 v1=$3 v2=$4 id ctls path v2path='' mnt
  while IFS=: read -r id ctls path; do
    if [ "$id" = 0 ] && [ -z "$ctls" ]; then v2path=$path; continue; fi
    case ,$ctls, in
      *,"$ctl",*)
        mnt=$(cg_mounts | awk -v c="$ctl" '$2 == "cgroup" { n = split($3, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $1; exit } }')
        echo "$mnt$path/$v1"; return 0 ;;
    esac
  done < "/proc/$pid/cgroup"
  mnt=$(cg_mounts | awk '$2 == "cgroup2" { print $1; exit }')
  [ -n "$mnt" ] && [ -n "$v2path" ] || { echo "no cgroup of pid $pid has $ctl" >&2; return 1; }
  echo "$mnt$v2path/$v2"
}

# ---------------------------------------------------------------- tests
t_layout() {
  local m v1 v2 want
  echo "kernel $(uname -r) ($(uname -v)), cmdline: $(cat /proc/cmdline)"
  echo "--- cgroup mounts"; cg_mounts
  echo "--- /proc/cgroups"; cat /proc/cgroups
  echo "--- /proc/self/cgroup"; cat /proc/self/cgroup
  v1=$(cg_mounts | awk '$2 == "cgroup" { sub(/^rw,/, "", $3); gsub(/(^|,)(nosuid|nodev|noexec|relatime|none|ro)/, "", $3); sub(/^,/, "", $3); printf "%s%s", s, $3; s = " " }')
  v2=$(cg_mounts | awk '$2 == "cgroup2" { print $1 }')
  note "v1 hierarchies: ${v1:-none}"
  for m in $v2; do note "cgroup2 at $m: controllers [$(cat "$m/cgroup.controllers")], root subtree_control [$(cat "$m/cgroup.subtree_control")]"; done
  [ -n "$v2" ] || note "cgroup2: not mounted"
  note "this process: $(tr '\n' ' ' < /proc/self/cgroup)"
  case $L in
    v2) want=/sys/fs/cgroup
        [ -z "$v1" ] || { echo "v2 layout has v1 hierarchies: $v1"; return 1; }
        [ "$(cat /sys/fs/cgroup/cgroup.subtree_control)" = "$(cat /sys/fs/cgroup/cgroup.controllers)" ] ||
          { echo "not every controller is enabled at the root"; return 1; } ;;
    v1) want=
        [ -n "$v1" ] || { echo "v1 layout has no v1 hierarchy"; return 1; } ;;
    hybrid) want=/sys/fs/cgroup/unified
        [ -n "$v1" ] || { echo "hybrid layout has no v1 hierarchy"; return 1; } ;;
  esac
  [ "$v2" = "$want" ] || { echo "cgroup2 mounted at [${v2}], want [${want}]"; return 1; }
  if [ "$L" != v2 ]; then   # every controller the kernel has is bound to a v1 hierarchy, unless chosen otherwise
    local c
    for c in ${BRIG_VM_V1_CONTROLLERS:-$(awk '!/^#/ && $4 == 1 { print $1 }' /proc/cgroups)}; do
      awk -v c="$c" '$1 == c && $2 != 0 { f = 1 } END { exit !f }' /proc/cgroups || { echo "$c is not on v1"; return 1; }
    done
  fi
}

t_make() { make -C "$REPO" test-host; }

t_bin() { # BINARY [PACKAGE_DIR]
  if [ -n "${2:-}" ]; then cd "$2" || return 1; export CARGO_MANIFEST_DIR=$2; fi
  # shellcheck disable=SC2086
  "$1" ${BRIG_VM_TEST_ARGS:-}
}

mk_bundle() { # DIR CGROUPS_PATH SHELL_COMMAND
  local d=$1 a
  rm -rf "$d"; mkdir -p "$d/rootfs/bin" "$d/rootfs/proc" "$d/rootfs/sys" "$d/rootfs/dev" "$d/rootfs/tmp"
  cp /bin/busybox "$d/rootfs/bin/busybox"
  for a in sh cat echo true sleep ls grep; do ln -s busybox "$d/rootfs/bin/$a"; done
  local caps='"CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"'
  local cmd=${3//\\/\\\\}; cmd=${cmd//\"/\\\"}
  cat > "$d/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
    "args": ["/bin/sh", "-c", "$cmd"],
    "env": ["PATH=/bin", "TERM=dumb"],
    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "smoke",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "$2",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 67108864},
      "pids": {"limit": 42}
    },
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
}

wait_stopped() { # RUNTIME ID
  local i
  for i in $(seq 100); do
    "$1" state "$2" 2>/dev/null | grep -q '"status": *"stopped"' && return 0
    sleep 0.2
  done
  echo "$2 did not stop"; return 1
}

t_smoke() { # RUNTIME
  local rt=$1 id=brig-smoke-$1 b=/tmp/brig-smoke/$1 cgp=/brig-smoke/$1 pid f v rc=0 times=() t i
  command -v "$rt" || { echo "$rt is not installed"; return 1; }
  "$rt" --version
  "$rt" delete -f "$id" 2>/dev/null
  mk_bundle "$b" "$cgp" 'cat /proc/self/cgroup; for f in memory.max pids.max memory/memory.limit_in_bytes pids/pids.max; do [ -f /sys/fs/cgroup/$f ] && echo "inside /sys/fs/cgroup/$f=$(cat /sys/fs/cgroup/$f)"; done; echo smoke-ok'
  # create: init waits on the exec fifo, inside its cgroup with the limits applied
  "$rt" create --bundle "$b" "$id" > "$b/container.out" 2>&1 || { cat "$b/container.out"; echo "$rt create failed"; return 1; }
  "$rt" state "$id"
  pid=$("$rt" state "$id" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
  echo "init pid $pid, /proc/$pid/cgroup:"; cat "/proc/$pid/cgroup"
  f=$(cg_file "$pid" memory memory.limit_in_bytes memory.max) && v=$(cat "$f") || v=missing
  echo "$f = $v"; note "memory limit: $f = $v"
  [ "$v" = 67108864 ] || { echo "memory limit: want 67108864"; rc=1; }
  f=$(cg_file "$pid" pids pids.max pids.max) && v=$(cat "$f") || v=missing
  echo "$f = $v"; note "pids limit: $f = $v"
  [ "$v" = 42 ] || { echo "pids limit: want 42"; rc=1; }
  "$rt" start "$id" || { echo "$rt start failed"; rc=1; }
  wait_stopped "$rt" "$id" || rc=1
  echo "--- container output"; cat "$b/container.out"
  grep -q smoke-ok "$b/container.out" || { echo "container did not print smoke-ok"; rc=1; }
  grep -q '^inside .*=67108864$' "$b/container.out" || { echo "container did not see its memory limit"; rc=1; }
  grep -q '^inside .*=42$' "$b/container.out" || { echo "container did not see its pids limit"; rc=1; }
  "$rt" delete "$id" || { echo "$rt delete failed"; rc=1; }
  [ ! -e "$(dirname "$f")" ] || { echo "cgroup $(dirname "$f") left behind"; rc=1; }
  # time of a trivial container, run in the foreground
  mk_bundle "$b" "$cgp" true
  for i in 1 2 3; do
    t=$( { time "$rt" run --bundle "$b" "$id-$i" >/dev/null 2>"$b/run.err"; } 2>&1 ) || { cat "$b/run.err"; echo "$rt run failed"; rc=1; }
    times+=("${t}s")
  done
  note "$rt run of a trivial container: ${times[*]}"
  rm -rf "$b"; rmdir "$(dirname "$b")" 2>/dev/null
  return $rc
}

# ---------------------------------------------------------------- run
exec 4>&1   # run_test: fd 3 of a test = this stdout, for notes
# A small ramdisk: the io/blkio limit tests need a block device, and the guest has none.
/run/brig-vm/bin/modprobe brd rd_nr=1 rd_size=1024 2>/dev/null || echo "  (no brd module: io limit tests will say so)"
# /dev/loop-control and /dev/net/tun, as on most hosts: the client suites pass host devices
# through and podman's slirp4netns needs tun.
for m in loop tun; do /run/brig-vm/bin/modprobe $m 2>/dev/null || echo "  (no $m module)"; done
run_test layout t_layout
if make -C "$REPO" -n test-host >/dev/null 2>&1; then run_test make-test-host t_make; fi
if [ -n "${BRIG_VM_TEST_LIST:-}" ]; then
  if [ -r "$BRIG_VM_TEST_LIST" ]; then
    while read -r bin dir; do
      [ -n "$bin" ] || continue
      name=${bin##*/}; name=${name%-*}
      run_test "${dir##*/}.$name" t_bin "$bin" "$dir"
    done < "$BRIG_VM_TEST_LIST"
  else
    run_test test-list false   # a missing list must not pass silently
    echo "  test-list: cannot read BRIG_VM_TEST_LIST=$BRIG_VM_TEST_LIST"
  fi
fi
for bin in ${BRIG_VM_TEST_BINS:-}; do run_test "$(basename "$bin")" t_bin "$bin"; done
# The conformance gate against brig: the checks listed for this layout (or the host's list).
t_conformance() {
  local exp=$REPO/conformance/expected/brig-$L.txt
  [ -f "$exp" ] || exp=$REPO/conformance/expected/brig.txt
  RUNTIME=$REPO/target/debug/brig "$REPO/conformance/target/x86_64-unknown-linux-gnu/release/conformance-runner" --expect "$exp" --results "$BRIG_VM_OUT/conformance.tsv"
}
if [ -x "$REPO/conformance/target/x86_64-unknown-linux-gnu/release/conformance-runner" ] && [ -x "$REPO/target/debug/brig" ]; then
  run_test conformance t_conformance
fi
# The client suites (tests/clients: podman and containerd driving brig) on pure v2, where podman,
# conmon and the shim take their cgroup2 paths (cgroupns private by default, memory.events,
# eBPF device rules). brig only: the runc pass of every scenario runs on the host, and under TCG
# a scenario takes ~5-10 s. BRIG_VM_CLIENTS=0 leaves them out.
t_clients() {
  CLIENT_RUNTIMES=${BRIG_VM_CLIENT_RUNTIMES:-brig} BRIG=$REPO/target/debug/brig "$REPO/tests/clients/$1.sh"
}
if [ "$L" = v2 ] && [ "${BRIG_VM_CLIENTS:-1}" != 0 ] && command -v podman >/dev/null && [ -x "$REPO/target/debug/brig" ]; then
  # podman 4.3's pod infra container fails on pure v2 with runc too (its /dev/null is refused
  # by the device rules podman gives it), so that scenario is run on the host only.
  CLIENT_SKIP='^pod$' CLIENT_SKIP_WHY='fails with runc too on pure v2: podman 4.3 infra container devices' \
    run_test clients-podman t_clients podman
  run_test clients-containerd t_clients containerd
fi
run_test runc-smoke t_smoke runc
run_test crun-smoke t_smoke crun

if [ $FAILED -gt 0 ]; then echo "inside $L: failed: ${FAILED_NAMES[*]}"; fi
echo "$L: $PASSED passed, $FAILED failed"
[ $FAILED = 0 ]
