# tests/clients/lib.sh: the scenario runner shared by podman.sh and containerd.sh.
#
# A suite defines scenarios as shell functions and lists them with `scenario NAME`; each one runs
# once per runtime in $CLIENT_RUNTIMES (default "runc brig": runc from Debian first, as the proof
# that the scenario itself is right, then brig), in its own subshell with `set -eu`, its output in
# $WORK/logs/<runtime>.<name>.log. Inside a scenario:
#   $RT      the runtime's name as the client knows it (runc | brig)
#   $RTBIN   the runtime's absolute path
#   on_exit CMD...   run CMD when the scenario ends (last registered runs first), also on failure
#   check_eq WHAT GOT WANT / check_match WHAT GOT REGEX / check_rc WHAT WANT CMD...
# The suite file itself may touch only what lives under $WORK, cgroups under /$CGROUP_PARENT and
# processes it started (ended by pid). Environment knobs:
#   CLIENT_RUNTIMES="brig"   run brig only (faster while working on brig)
#   CLIENT_FILTER=REGEX      run only scenarios whose name matches
#   CLIENT_SKIP=REGEX CLIENT_SKIP_WHY=TEXT   leave out the matching scenarios, listed as `skip`
#                            with the reason (for environments the reference runtime fails in too)
#   KEEP_LOGS=1              keep $WORK/logs (copied to target/clients-logs) after the run
# Exit status: 0 when every scenario passed under every runtime, 1 otherwise.

set -u

# Orphans (conmon, shims, container inits whose parent died) must come back to us, not to the
# machine's PID 1: re-exec the suite under PR_SET_CHILD_SUBREAPER (kept across execve). bash
# reaps any child it is given when it waits.
if [ -z "${BRIG_CLIENTS_SUBREAPER:-}" ]; then
    export BRIG_CLIENTS_SUBREAPER=1
    exec python3 -c 'import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
os.execv("/bin/bash", ["bash"] + sys.argv[1:])' "$0" "$@"
fi

if [ "$(id -u)" != 0 ]; then
    echo "$0: must run as root" >&2
    exit 1
fi

CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(cd "$CLIENTS_DIR/../.." && pwd)
BRIG=$(readlink -f "${BRIG:-$PROJECT_DIR/target/debug/brig}")
RUNC=$(command -v runc || echo /usr/sbin/runc)
CLIENT_RUNTIMES=${CLIENT_RUNTIMES:-"runc brig"}
CLIENT_FILTER=${CLIENT_FILTER:-}
CLIENT_SKIP=${CLIENT_SKIP:-}
CLIENT_SKIP_WHY=${CLIENT_SKIP_WHY:-no reason given}
SUITE=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/brig-$SUITE.XXXXXX")
CGROUP_PARENT="brig-$SUITE-$$"
mkdir -p "$WORK/logs"
# Clients may leave files in their cwd (conmon 2.1 writes `oom` there): run from $WORK.
cd "$WORK" || exit 1

if [ ! -x "$BRIG" ]; then
    echo "$0: brig binary not found at $BRIG (build it, or set BRIG=)" >&2
    exit 1
fi

SCENARIOS=()
# Register scenario NAME (function t_NAME). A name given twice is a suite bug (the second function
# would silently replace the first): refuse it.
scenario() {
    local n
    for n in "${SCENARIOS[@]}"; do
        if [ "$n" = "$1" ]; then
            echo "$0: scenario $1 is defined twice" >&2
            exit 1
        fi
    done
    SCENARIOS+=("$1")
}

# Suite-wide teardown, in reverse order of registration; runs when the suite exits, whatever way.
SUITE_CLEANUP=()
suite_on_exit() { SUITE_CLEANUP+=("$*"); }
suite_teardown() {
    local i
    for ((i = ${#SUITE_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${SUITE_CLEANUP[$i]}" >>"$WORK/logs/teardown.log" 2>&1 || true
    done
    remove_cgroups "$CGROUP_PARENT"
    if [ -n "${KEEP_LOGS:-}" ]; then
        rm -rf "$PROJECT_DIR/target/clients-logs/$SUITE"
        mkdir -p "$PROJECT_DIR/target/clients-logs"
        cp -r "$WORK/logs" "$PROJECT_DIR/target/clients-logs/$SUITE" 2>/dev/null || true
    fi
    umount_under "$WORK"
    rm -rf "$WORK" 2>/dev/null || { umount_under "$WORK"; rm -rf "$WORK"; }
}
trap suite_teardown EXIT
trap 'exit 130' INT TERM

# Unmount everything mounted at or below $1, deepest first.
umount_under() {
    local m
    awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Remove the cgroup directory /$1 (and everything below it) in every hierarchy: v1 controllers
# and the v2 tree. Processes still inside are killed first (by pid, from cgroup.procs).
remove_cgroups() {
    local rel=$1 base dir d pid
    for base in /sys/fs/cgroup /sys/fs/cgroup/*; do
        dir="$base/$rel"
        [ -d "$dir" ] || continue
        # Thaw top-down (a frozen parent keeps its children frozen), kill, then remove
        # deepest-first.
        for d in $(find "$dir" -type d 2>/dev/null); do
            [ -e "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
            [ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
        done
        for d in $(find "$dir" -depth -type d 2>/dev/null); do
            if [ -e "$d/cgroup.procs" ]; then
                for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            fi
        done
        for d in $(find "$dir" -depth -type d 2>/dev/null); do
            rmdir "$d" 2>/dev/null || { sleep 0.5; rmdir "$d" 2>/dev/null || true; }
        done
    done
}

# make_rootfs DIR: a busybox-static rootfs (every applet, root and nobody in passwd/group): the
# image of both suites.
make_rootfs() {
    local r=$1 a
    mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root"
    cp /bin/busybox "$r/bin/busybox"
    for a in $("$r/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
    echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>"$r/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$r/etc/group"
}

# Cgroup files of a container, on this host's layout: a pure cgroup2 host, or v1 hierarchies at
# /sys/fs/cgroup/<controller> (the cgroup2 mount of a hybrid host holds no controller we read).
cg_v2() { [ -e /sys/fs/cgroup/cgroup.controllers ]; }
# cg_dir CONTROLLER REL: the directory of cgroup REL (/parent/id) that holds CONTROLLER's files.
cg_dir() { if cg_v2; then echo "/sys/fs/cgroup$2"; else echo "/sys/fs/cgroup/$1$2"; fi; }
# cg_of PID CONTROLLER: PID's cgroup (REL) for CONTROLLER.
cg_of() {
    if cg_v2; then
        awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup"
    else
        awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"
    fi
}
# cg_read CONTROLLER REL V1FILE V2FILE: the value of the setting, from the file this host has.
cg_read() { if cg_v2; then cat "/sys/fs/cgroup$2/$4"; else cat "/sys/fs/cgroup/$1$2/$3"; fi; }
# cg_frozen REL: FROZEN or THAWED.
cg_frozen() {
    if cg_v2; then
        if [ "$(cat "/sys/fs/cgroup$1/cgroup.freeze")" = 1 ]; then echo FROZEN; else echo THAWED; fi
    else
        cat "/sys/fs/cgroup/freezer$1/freezer.state"
    fi
}
# cpu.weight for cpu.shares S, as runc 1.1 (and brig) convert it on cgroup2.
cg_weight() { echo $((1 + (($1 - 2) * 9999) / 262142)); }

# --- inside a scenario ---------------------------------------------------------------------
SCENARIO_CLEANUP=()
on_exit() { SCENARIO_CLEANUP+=("$*"); }
scenario_teardown() {
    local i
    for ((i = ${#SCENARIO_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${SCENARIO_CLEANUP[$i]}" || true
    done
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
check_eq() {
    if [ "$2" != "$3" ]; then
        fail "$1: got '$2', want '$3'"
    fi
    echo "ok: $1 = '$3'"
}
check_match() {
    if ! grep -Eq -- "$3" <<<"$2"; then
        fail "$1: '$2' does not match /$3/"
    fi
    echo "ok: $1 ~ /$3/"
}
# check_rc WHAT WANT CMD...: run CMD, its exit status must be WANT.
check_rc() {
    local what=$1 want=$2 rc=0
    shift 2
    "$@" || rc=$?
    check_eq "$what (exit status)" "$rc" "$want"
}
# wait_for WHAT SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    fail "timed out after ${secs}s waiting for: $what"
}

# --- the runner ----------------------------------------------------------------------------
run_suite() {
    local rt name log rc status total=0 failed=0
    declare -A result
    for rt in $CLIENT_RUNTIMES; do
        for name in "${SCENARIOS[@]}"; do
            if [ -n "$CLIENT_FILTER" ] && ! [[ $name =~ $CLIENT_FILTER ]]; then continue; fi
            if [ -n "$CLIENT_SKIP" ] && [[ $name =~ $CLIENT_SKIP ]]; then
                result[$rt.$name]=skip
                printf '%-5s %-4s %-40s (%s)\n' "$rt" skip "$name" "$CLIENT_SKIP_WHY"
                continue
            fi
            log="$WORK/logs/$rt.$name.log"
            case $rt in
            brig) RTBIN=$BRIG ;;
            runc) RTBIN=$RUNC ;;
            *) RTBIN=$(command -v "$rt") ;;
            esac
            local start=$SECONDS
            (
                RT=$rt
                trap scenario_teardown EXIT
                set -eu
                "t_$name"
            ) >"$log" 2>&1 </dev/null
            rc=$?
            total=$((total + 1))
            if [ $rc = 0 ]; then
                status=pass
            else
                status=FAIL
                failed=$((failed + 1))
            fi
            result[$rt.$name]=$status
            printf '%-5s %-4s %-40s %3ss\n' "$rt" "$status" "$name" $((SECONDS - start))
            if [ $rc != 0 ]; then sed 's/^/      | /' "$log" | tail -15; fi
        done
    done
    echo
    printf '%-40s' "scenario ($SUITE)"
    for rt in $CLIENT_RUNTIMES; do printf ' %-5s' "$rt"; done
    echo
    for name in "${SCENARIOS[@]}"; do
        if [ -n "$CLIENT_FILTER" ] && ! [[ $name =~ $CLIENT_FILTER ]]; then continue; fi
        printf '%-40s' "$name"
        for rt in $CLIENT_RUNTIMES; do printf ' %-5s' "${result[$rt.$name]:-}"; done
        echo
    done
    echo "$SUITE: $((total - failed))/$total passed${CLIENT_SKIP:+ (left out: /$CLIENT_SKIP/, $CLIENT_SKIP_WHY)}"
    [ $failed = 0 ]
}
