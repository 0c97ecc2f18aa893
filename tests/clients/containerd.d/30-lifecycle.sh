# containerd scenarios: kill, pause/resume, ps, delete, create + start (sourced by containerd.sh;
# see lib.sh for the helpers).

# A container init that reports a signal: pid 1 gets no default action for TERM or USR1, only
# a trap sees them.
TRAPPER='trap "echo got-term; exit 42" TERM; trap "echo got-usr1; exit 43" USR1; echo ready; while :; do sleep 0.1; done'

# bg_run ID OUT -- CMD...: an attached `ctr run` in the background, its stdout in OUT; sets
# $bg to its pid.
bg_run() {
    local id=$1 out=$2
    shift 3
    cr "$id" -- "$@" >"$out" 2>&1 &
    bg=$!
    wait_for "$id running" 30 grep -q ready "$out"
}

# kill_case NAME [KILL ARGS...]: run the trapper attached, `ctr task kill` it with ARGS; sets
# $out (the init's output) and $rc (ctr run's exit status).
kill_case() {
    local id=$RT-$1
    shift
    out=$WORK/$id.out
    ids "$id"
    bg_run "$id" "$out" -- sh -c "$TRAPPER"
    c task kill "$@" "$id"
    rc=0
    wait "$bg" || rc=$?
}

scenario kill_default
t_kill_default() {
    kill_case killterm
    check_match "the init saw SIGTERM (ctr's default)" "$(cat "$out")" '^got-term$'
    check_eq "exit code through ctr run" "$rc" 42
}

scenario kill_usr1
t_kill_usr1() {
    kill_case killusr1 -s SIGUSR1
    check_match "the trap ran" "$(cat "$out")" '^got-usr1$'
    check_eq "exit code" "$rc" 43
}

scenario kill_sigkill
t_kill_sigkill() {
    kill_case killkill -s SIGKILL
    check_eq "exit code 128+9" "$rc" 137
    check_eq "no trap output" "$(grep -c got- "$out" || true)" 0
}

scenario kill_all
t_kill_all() {
    local id=$RT-killall
    ids "$id"
    crd "$id" -- sleep 1000
    ce -d --exec-id k1 "$id" sleep 1001
    ce -d --exec-id k2 "$id" sleep 1002
    wait_for "three processes" 30 test "$(c task ps "$id" | tail -n +2 | wc -l)" = 3
    pids=$(c task ps "$id" | tail -n +2 | awk '{print $1}')
    c task kill --all -s SIGKILL "$id"
    wait_for "task stopped" 30 task_is "$id" STOPPED
    for p in $pids; do
        wait_for "pid $p gone" 30 test ! -e "/proc/$p/cmdline" -o -z "$(cat "/proc/$p/cmdline" 2>/dev/null)"
    done
    check_eq "cgroup empty" "$(cat "$(cgdir pids "$id")/cgroup.procs")" ""
}

scenario pause_resume
t_pause_resume() {
    local id=$RT-pause
    ids "$id"
    crd "$id" -- sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.05; done'
    wait_for "counter" 30 ce --exec-id p0 "$id" test -s /tmp/count
    c task pause "$id"
    check_eq "ctr status" "$(task_status "$id")" PAUSED
    check_eq "$RT state" "$(rt_status "$id")" paused
    check_eq "freezer state" "$(cg_frozen "/$CGROUP_PARENT/$id")" FROZEN
    pid=$(task_pid "$id")
    a=$(cat "/proc/$pid/root/tmp/count")
    sleep 0.5
    b=$(cat "/proc/$pid/root/tmp/count")
    check_eq "counter frozen" "$b" "$a"
    c task resume "$id"
    check_eq "ctr status after resume" "$(task_status "$id")" RUNNING
    check_eq "$RT state after resume" "$(rt_status "$id")" running
    wait_for "counter moves again" 30 test "$(cat "/proc/$pid/root/tmp/count")" != "$b"
    check_eq "freezer state after resume" "$(cg_frozen "/$CGROUP_PARENT/$id")" THAWED
}

scenario ps
t_ps() {
    local id=$RT-ps
    ids "$id"
    crd "$id" -- sleep 1000
    ce -d --exec-id x1 "$id" sleep 1001
    wait_for "two processes" 30 test "$(c task ps "$id" | tail -n +2 | wc -l)" = 2
    init=$(task_pid "$id")
    out=$(c task ps "$id")
    echo "$out"
    check_match "init listed" "$out" "^$init( |$)"
    other=$(tail -n +2 <<<"$out" | awk -v i="$init" '$1 != i {print $1}')
    check_eq "the other pid is the exec'd sleep" "$(tr '\0' ' ' <"/proc/$other/cmdline")" "sleep 1001 "
    # the runtime's own answer, as the shim asked for it
    check_eq "$RT ps --format json" "$("$RTBIN" --root "$RTROOT/$CONTAINERD_NAMESPACE" ps --format json "$id" | jq -c 'sort')" \
        "$(printf '%s\n' "$init" "$other" | sort -n | jq -sc 'sort')"
}

scenario delete
t_delete() {
    local id=$RT-del
    ids "$id"
    crd "$id" -- sleep 1000
    out=$(c task rm "$id" 2>&1) && rc=0 || rc=$?
    check_match "task rm of a running task refused" "$rc" '^[1-9][0-9]*$'
    c task kill -s SIGKILL "$id"
    wait_for "stopped" 30 task_is "$id" STOPPED
    c task rm "$id"
    check_eq "task gone" "$(task_status "$id")" ""
    check_rc "$RT state after task rm" 1 rt_state "$id"
    check_eq "cgroup removed" "$(test -d "$(cgdir memory "$id")" && echo present || echo removed)" removed
    c container rm "$id"
    check_eq "container gone" "$(c container ls -q | grep -cx "$id" || true)" 0
    check_eq "snapshot gone" "$(c snapshot ls | grep -c "^$id " || true)" 0
}

scenario delete_after_exit
t_delete_after_exit() {
    local id=$RT-delexit
    ids "$id"
    cr "$id" -d -- sh -c 'sleep 0.3; exit 5'
    wait_for "init exited on its own" 30 task_is "$id" STOPPED
    check_eq "$RT state of the dead init" "$(rt_status "$id")" stopped
    out=$(c task rm "$id" 2>&1)
    echo "$out"
    check_match "ctr reports the exit code" "$out" 'exit code 5'
    check_eq "task gone" "$(task_status "$id")" ""
    check_rc "$RT state after task rm" 1 rt_state "$id"
    c container rm "$id"
}

# `ctr container create` sends no runtime options: the shim runs `runc` from the daemon's PATH
# with its default root /run/containerd/runc/<ns> (in the daemon's mount namespace:
# $WORK/run/containerd/runc/<ns>). ctr's create has no --cgroup: the spec comes from --config.
scenario create_then_start
t_create_then_start() {
    local id=$RT-create
    ids "$id"
    use_path_runtime
    make_spec "$id" "$WORK/spec-$id.json" '.process.args = ["sh", "-c", "echo started; sleep 1000"]'
    c container create --config "$WORK/spec-$id.json" "$id"
    check_eq "no task before start" "$(task_status "$id")" ""
    c task start -d --fifo-dir "$FIFO" "$id"
    wait_for "running" 30 task_is "$id" RUNNING
    pid=$(task_pid "$id")
    check_eq "init's command" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "
    check_eq "$RT state under the shim's default root" \
        "$(rt_status "$id" "$WORK/run/containerd/runc/$CONTAINERD_NAMESPACE")" running
    check_eq "cgroup from the spec" "$(cg_of "$pid" memory)" "/$CGROUP_PARENT/$id"
    check_match "$RT ran from PATH with the default root" "$(grep ' start ' "$PATH_LOG")" \
        "^--root /run/containerd/runc/$CONTAINERD_NAMESPACE --log .*/log.json --log-format json start $id\$"
    c task kill -s SIGKILL "$id"
    wait_for "stopped" 30 task_is "$id" STOPPED
    c task rm "$id" || true
    c container rm "$id"
}

# A second runtime handler: io.containerd.brig.v2 is containerd-shim-brig-v2 on the daemon's
# PATH (the runc v2 shim under another name), no options: `runc` from PATH again.
scenario runtime_handler
t_runtime_handler() {
    local id=$RT-handler
    ids "$id"
    use_path_runtime
    timeout -k 5 60 ctr run -d --fifo-dir "$FIFO" --runtime io.containerd.brig.v2 --cgroup "/$CGROUP_PARENT/$id" \
        "$IMAGE" "$id" sleep 1000
    wait_for "running" 30 task_is "$id" RUNNING
    check_eq "runtime" "$(c container info "$id" | jq -r .Runtime.Name)" io.containerd.brig.v2
    check_eq "$RT state" "$(rt_status "$id" "$WORK/run/containerd/runc/$CONTAINERD_NAMESPACE")" running
    out=$(ce --exec-id h1 "$id" echo exec-ok)
    check_eq "exec through the handler" "$out" exec-ok
    check_match "$RT ran the exec" "$(cat "$PATH_LOG")" " exec --process [^ ]+ --detach --pid-file [^ ]+ $id\$"
}
