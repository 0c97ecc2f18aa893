# containerd scenarios: `ctr task exec` (sourced by containerd.sh; see lib.sh for the helpers).

scenario exec
t_exec() {
    local id=$RT-exec
    ids "$id"
    crd "$id" --env FROM_SPEC=yes -- sleep 1000
    out=$(ce --exec-id e1 "$id" sh -c 'echo "out $FROM_SPEC"; echo err >&2; exit 7' 2>"$WORK/exec-$RT.err") && rc=0 || rc=$?
    check_eq "stdout (env from the container's spec)" "$out" "out yes"
    check_eq "stderr" "$(cat "$WORK/exec-$RT.err")" err
    check_eq "exit code" "$rc" 7
    # The exec'd process is in the container: same pid namespace and cgroup as the init.
    init=$(task_pid "$id")
    out=$(ce --exec-id e2 "$id" sh -c 'readlink /proc/1/ns/pid; readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\0" " "')
    check_eq "exec sees the init as pid 1" "$(sed -n 3p <<<"$out")" "sleep 1000 "
    check_eq "same pid namespace" "$(sed -n 1p <<<"$out")" "$(sed -n 2p <<<"$out")"
    check_eq "host's view of the pid namespace" "$(sed -n 1p <<<"$out")" "$(readlink "/proc/$init/ns/pid")"
    check_eq "task still running" "$(task_status "$id")" RUNNING
}

scenario exec_tty
t_exec_tty() {
    local id=$RT-exectty
    ids "$id"
    crd "$id" -- sleep 1000
    out=$(set -o pipefail; timeout -k 5 60 script -qec "ctr task exec -t --fifo-dir $FIFO --exec-id t1 $id sh -c 'tty; [ -t 0 ] && echo stdin-is-a-tty; exit 9'" /dev/null | tr -d '\r') && rc=0 || rc=$?
    echo "$out"
    check_match "tty" "$out" '^(\^@)?/dev/pts/[0-9]+$'
    check_match "stdin" "$out" '^stdin-is-a-tty$'
    check_eq "exit code" "$rc" 9
    # without -t: no terminal
    out=$(ce --exec-id t2 "$id" sh -c 'tty || true')
    check_eq "no tty without -t" "$out" "not a tty"
}

scenario exec_user_cwd
t_exec_user_cwd() {
    local id=$RT-execuser
    ids "$id"
    crd "$id" -- sleep 1000
    out=$(ce --exec-id u1 --user 65534 --cwd /tmp "$id" sh -c 'id -u; id -g; pwd')
    check_eq "uid, gid, cwd" "$out" "65534
65534
/tmp"
    out=$(ce --exec-id u2 --user nobody "$id" id -un)
    check_eq "user by name" "$out" nobody
    out=$(ce --exec-id u3 "$id" sh -c 'id -u; pwd')
    check_eq "default user and cwd" "$out" "0
/"
}

scenario exec_missing_binary
t_exec_missing_binary() {
    local id=$RT-execmiss
    ids "$id"
    crd "$id" -- sleep 1000
    out=$(ce --exec-id m1 "$id" /no/such/tool 2>&1) && rc=0 || rc=$?
    echo "$out"
    check_match "ctr fails" "$rc" '^[1-9][0-9]*$'
    check_match "message names the binary" "$out" 'OCI runtime exec failed.*/no/such/tool'
    check_eq "the container is not hurt" "$(task_status "$id")" RUNNING
    check_eq "a following exec works" "$(ce --exec-id m2 "$id" echo fine)" fine
}

scenario exec_detached
t_exec_detached() {
    local id=$RT-execd
    ids "$id"
    crd "$id" -- sleep 1000
    ce -d --exec-id d1 "$id" sh -c 'echo $$ >/tmp/pid; exec sleep 1000'
    wait_for "exec'd process" 30 ce --exec-id d2 "$id" test -s /tmp/pid
    pid=$(ce --exec-id d3 "$id" cat /tmp/pid)
    check_match "ps lists the detached exec" "$(c task ps "$id")" "d1"
    check_eq "it runs" "$(ce --exec-id d4 "$id" cat "/proc/$pid/comm")" sleep
}
