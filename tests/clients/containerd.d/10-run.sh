# containerd scenarios: `ctr run` (sourced by containerd.sh; see lib.sh for the helpers).

scenario run_attached
t_run_attached() {
    ids "$RT-att"
    out=$(cr "$RT-att" --rm -- sh -c 'echo hello; echo to-stderr >&2; exit 3' 2>"$WORK/att-$RT.err") && rc=0 || rc=$?
    check_eq "stdout" "$out" hello
    check_eq "stderr" "$(cat "$WORK/att-$RT.err")" to-stderr
    check_eq "exit code" "$rc" 3
}

scenario run_detached
t_run_detached() {
    local id=$RT-det
    ids "$id"
    crd "$id" -- sleep 1000
    check_eq "ctr task ls status" "$(task_status "$id")" RUNNING
    pid=$(task_pid "$id")
    check_match "task pid" "$pid" '^[0-9]+$'
    check_eq "pid's command" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "
    # The runtime the shim ran is the scenario's: it knows the container under the shim's --root.
    check_eq "$RT state status" "$(rt_status "$id")" running
    check_eq "$RT state pid" "$(rt_state "$id" | jq -r .pid)" "$pid"
    check_eq "container's cgroup" "$(cg_of "$pid" pids)" "/$CGROUP_PARENT/$id"
}

scenario run_tty
t_run_tty() {
    local id=$RT-tty
    ids "$id"
    # ctr -t needs a terminal on its stdin: script(1) gives it one.
    out=$(set -o pipefail; timeout -k 5 60 script -qec "ctr run --rm -t --fifo-dir $FIFO --cgroup /$CGROUP_PARENT/$id $(rtopts) $IMAGE $id sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty; exit 4'" /dev/null | tr -d '\r') && rc=0 || rc=$?
    echo "$out"
    # (script echoes its stdin's EOF as ^@)
    check_match "tty" "$out" '^(\^@)?/dev/pts/[0-9]+$'
    check_match "stdout" "$out" '^stdout-is-a-tty$'
    check_eq "exit code" "$rc" 4
}

scenario run_rm
t_run_rm() {
    local id=$RT-rm
    ids "$id"
    out=$(cr "$id" --rm -- echo gone)
    check_eq "output" "$out" gone
    check_eq "container after --rm" "$(c container ls -q | grep -cx "$id" || true)" 0
    check_rc "$RT state after --rm" 1 rt_state "$id"
    check_eq "runtime state dir" "$(ls "$RTROOT/$CONTAINERD_NAMESPACE" 2>/dev/null | grep -cx "$id" || true)" 0
    check_eq "cgroup after --rm" "$(test -d "$(cgdir pids "$id")" && echo present || echo removed)" removed
}

scenario run_env_cwd
t_run_env_cwd() {
    ids "$RT-env"
    out=$(cr "$RT-env" --rm --env FOO=bar --env 'SPACED=a b' --cwd /tmp -- sh -c 'echo "$FOO|$SPACED|$(pwd)|$PATH"')
    check_eq "env and cwd" "$out" "bar|a b|/tmp|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

scenario bind_mount
t_bind_mount() {
    ids "$RT-bind"
    local dir=$WORK/bind-$RT
    mkdir -p "$dir/rw" "$dir/ro"
    echo from-host >"$dir/ro/file"
    out=$(cr "$RT-bind" --rm --mount "type=bind,src=$dir/rw,dst=/rw,options=rbind:rw" \
        --mount "type=bind,src=$dir/ro,dst=/ro,options=rbind:ro" -- \
        sh -c 'echo from-container >/rw/new; cat /ro/file; touch /ro/x 2>&1 || echo ro-refused')
    check_match "ro mount readable" "$out" '^from-host$'
    check_match "ro mount refuses writes" "$out" 'Read-only file system'
    check_eq "written through rw mount" "$(cat "$dir/rw/new")" from-container
    check_eq "nothing written through ro" "$(test -e "$dir/ro/x" && echo yes || echo no)" no
}

scenario parallel
t_parallel() {
    local i pids=() rc
    for i in 1 2 3 4 5; do ids "$RT-par$i"; done
    for i in 1 2 3 4 5; do
        cr "$RT-par$i" --rm -- sh -c "sleep 1; echo task-$i; exit $i" >"$WORK/par-$RT-$i.out" 2>&1 &
        pids+=($!)
    done
    for i in 1 2 3 4 5; do
        rc=0
        wait "${pids[$((i - 1))]}" || rc=$?
        check_eq "task $i exit code" "$rc" "$i"
        check_eq "task $i output" "$(cat "$WORK/par-$RT-$i.out")" "task-$i"
    done
    check_eq "tasks left" "$(c task ls -q | grep -c "^$RT-par" || true)" 0
}

scenario missing_executable
t_missing_executable() {
    local id=$RT-noexec
    ids "$id"
    out=$(cr "$id" --rm -- /no/such/binary 2>&1) && rc=0 || rc=$?
    echo "$out"
    check_match "ctr fails" "$rc" '^[1-9][0-9]*$'
    # The runtime's error travels: runtime --log <bundle>/log.json -> shim -> containerd -> ctr.
    check_match "message names the executable" "$out" '/no/such/binary'
    check_match "message is the runtime's" "$out" 'OCI runtime (create|start) failed'
    check_eq "no task left" "$(task_status "$id")" ""
}

scenario systemd_cgroup
t_systemd_cgroup() {
    local id=$RT-sd
    ids "$id"
    out=$(timeout -k 5 60 ctr run --rm --fifo-dir "$FIFO" --runc-systemd-cgroup --cgroup "system.slice:brigtest:$id" \
        $(rtopts) "$IMAGE" "$id" true 2>&1) && rc=0 || rc=$?
    echo "$out"
    check_match "ctr fails" "$rc" '^[1-9][0-9]*$'
    check_match "message says systemd" "$out" '(systemd|dbus|DBus)'
    check_eq "no task left" "$(task_status "$id")" ""
}
