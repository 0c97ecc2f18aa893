# containerd scenarios: I/O and fds, paused containers, forced deletes, namespaces shared and
# user-mapped, no-pivot (sourced by containerd.sh; see lib.sh for the helpers).

# ctr passes stdin's EOF on (CloseIO) only once the task or exec exists: an EOF that comes
# earlier is lost and the reader waits forever. So the input is written once the process runs.
scenario stdin
t_stdin() {
    local id=$RT-stdin
    ids "$id"
    out=$( (wait_for "task" 30 task_is "$id" RUNNING; printf 'line one\nline two\n') |
        cr "$id" --rm -- sh -c 'cat; [ -t 0 ] || echo not-a-tty')
    check_eq "stdin through ctr run" "$out" "line one
line two
not-a-tty"
    crd "$id" -- sleep 1000
    out=$( (wait_for "exec" 30 sh -c "ctr task ps $id | grep -q ExecID:s1"; echo to-exec) |
        ce --exec-id s1 "$id" sh -c 'read x; echo "got:$x"')
    check_eq "stdin through ctr task exec" "$out" "got:to-exec"
}

# The shim runs `create` with an extra fd 3 and no --preserve-fds: nothing but 0-2 may reach
# the container, nor an exec'd process.
scenario no_leaked_fds
t_no_leaked_fds() {
    local id=$RT-fds
    ids "$id"
    crd "$id" -- sh -c 'ls /proc/self/fd >/tmp/init-fds; exec sleep 1000'
    pid=$(task_pid "$id")
    wait_for "init's fd list" 30 test -s "/proc/$pid/root/tmp/init-fds"
    check_eq "fds of the init (seen by its ls)" "$(tr '\n' ' ' <"/proc/$pid/root/tmp/init-fds")" "0 1 2 3 "
    check_eq "fds of the running init" "$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')" "0 1 2 "
    # ls's own view (3 = the directory it reads): listing the shell's fds from a pipeline races
    # with the shell closing the pipe's ends.
    out=$(ce --exec-id f1 "$id" ls /proc/self/fd | tr '\n' ' ')
    check_eq "fds of an exec'd process (seen by its ls)" "$out" "0 1 2 3 "
}

scenario exec_paused
t_exec_paused() {
    local id=$RT-execpause
    ids "$id"
    crd "$id" -- sleep 1000
    c task pause "$id"
    out=$(timeout -k 5 20 ctr task exec --fifo-dir "$FIFO" --exec-id p1 "$id" echo should-not-run 2>&1) && rc=0 || rc=$?
    echo "$out"
    check_match "exec into a paused container fails" "$rc" '^[1-9][0-9]*$'
    check_match "message says paused" "$out" 'paused'
    c task resume "$id"
    check_eq "exec after resume" "$(ce --exec-id p2 "$id" echo fine)" fine
}

scenario delete_paused
t_delete_paused() {
    local id=$RT-delpause
    ids "$id"
    crd "$id" -- sleep 1000
    pid=$(task_pid "$id")
    c task pause "$id"
    check_eq "paused" "$(task_status "$id")" PAUSED
    c task rm -f "$id"
    check_eq "task gone" "$(task_status "$id")" ""
    wait_for "init gone" 30 test ! -e "/proc/$pid/cmdline" -o -z "$(cat "/proc/$pid/cmdline" 2>/dev/null)"
    check_rc "$RT state after rm -f" 1 rt_state "$id"
    check_eq "cgroup removed" "$(test -d "$(cgdir freezer "$id")" && echo present || echo removed)" removed
}

scenario delete_force_running
t_delete_force_running() {
    local id=$RT-delforce
    ids "$id"
    crd "$id" -- sleep 1000
    pid=$(task_pid "$id")
    ce -d --exec-id x1 "$id" sleep 1001
    wait_for "two processes" 30 test "$(c task ps "$id" | tail -n +2 | wc -l)" = 2
    c task rm -f "$id"
    check_eq "task gone" "$(task_status "$id")" ""
    wait_for "init gone" 30 test ! -e "/proc/$pid/cmdline" -o -z "$(cat "/proc/$pid/cmdline" 2>/dev/null)"
    check_eq "cgroup removed" "$(test -d "$(cgdir pids "$id")" && echo present || echo removed)" removed
    check_rc "$RT state after rm -f" 1 rt_state "$id"
}

# --with-ns: a second container joins the first one's pid namespace.
scenario join_pid_ns
t_join_pid_ns() {
    local a=$RT-nsa b=$RT-nsb
    ids "$a" "$b"
    crd "$a" -- sleep 1001
    pa=$(task_pid "$a")
    crd "$b" --with-ns "pid:/proc/$pa/ns/pid" -- sleep 1002
    pb=$(task_pid "$b")
    check_eq "same pid namespace" "$(readlink "/proc/$pb/ns/pid")" "$(readlink "/proc/$pa/ns/pid")"
    [ "$(readlink "/proc/$pb/ns/mnt")" != "$(readlink "/proc/$pa/ns/mnt")" ] || fail "mount namespace shared too"
    out=$(ce --exec-id j1 "$b" ps -o args)
    echo "$out"
    check_match "b sees a's init" "$out" '^sleep 1001'
    c task kill -s SIGKILL "$b"
    wait_for "b stopped" 30 task_is "$b" STOPPED
    check_eq "a unharmed" "$(task_status "$a")" RUNNING
}

# --uidmap/--gidmap: a user namespace; ctr chowns a copy of the snapshot for the mapping (and
# sends task options, which drop --runc-binary: the PATH runtime).
scenario userns
t_userns() {
    local id=$RT-userns
    ids "$id"
    use_path_runtime
    crd "$id" --uidmap 0:200000:65536 --gidmap 0:200000:65536 -- sleep 1000
    pid=$(task_pid "$id")
    check_eq "uid_map" "$(awk '{print $1, $2, $3}' "/proc/$pid/uid_map")" "0 200000 65536"
    check_eq "gid_map" "$(awk '{print $1, $2, $3}' "/proc/$pid/gid_map")" "0 200000 65536"
    check_eq "host uid of the init" "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" 200000
    out=$(ce --exec-id u1 "$id" sh -c 'id -u; touch /rootfile && echo wrote; ls -ln /bin/busybox | awk "{print \$3}"')
    check_eq "root inside, owns its rootfs" "$out" "0
wrote
0"
    check_match "$RT created it" "$(cat "$PATH_LOG")" "^--root /run/containerd/runc/$CONTAINERD_NAMESPACE .* create .*$id\$"
}

# --no-pivot reaches the runtime through the runc v1 shim (ctr refuses it for runc.v2) as a task
# option, so the runtime is the PATH one.
scenario no_pivot
t_no_pivot() {
    local id=$RT-nopivot
    ids "$id"
    use_path_runtime
    out=$(timeout -k 5 60 ctr run --rm --fifo-dir "$FIFO" --runtime io.containerd.runc.v1 --no-pivot \
        --cgroup "/$CGROUP_PARENT/$id" "$IMAGE" "$id" sh -c 'echo ran; exit 3') && rc=0 || rc=$?
    cat "$PATH_LOG"
    check_eq "output" "$out" ran
    check_eq "exit code" "$rc" 3
    check_match "$RT got --no-pivot" "$(grep ' create ' "$PATH_LOG")" "create .*--no-pivot.* $id\$"
    : >"$PATH_LOG"
    out=$(timeout -k 5 60 ctr run --rm --fifo-dir "$FIFO" --runtime io.containerd.runc.v1 \
        --cgroup "/$CGROUP_PARENT/$id" "$IMAGE" "$id" echo pivoted)
    check_eq "output without --no-pivot" "$out" pivoted
    check_eq "no --no-pivot" "$(grep -c -- --no-pivot "$PATH_LOG" || true)" 0
}

scenario labels_annotations
t_labels_annotations() {
    local id=$RT-annot
    ids "$id"
    crd "$id" --label team=brig --annotation org.example.note=hello -- sleep 1000
    check_eq "ctr label" "$(c container info "$id" | jq -r .Labels.team)" brig
    check_eq "annotation in the runtime's state" "$(rt_state "$id" | jq -r '.annotations["org.example.note"]')" hello
    check_eq "bundle" "$(rt_state "$id" | jq -r .bundle)" "$CTRD/state/io.containerd.runtime.v2.task/$CONTAINERD_NAMESPACE/$id"
}
