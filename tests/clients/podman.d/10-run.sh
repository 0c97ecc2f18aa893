# podman scenarios: the container lifecycle (run, exec, stop, kill, wait, pause, update, OOM,
# restart, attach, ...). Sourced by podman.sh; see lib.sh for the helpers. Helpers here are
# prefixed lc_ so that other podman.d files (sourced after this one) cannot redefine them.

# A container's name for this scenario and runtime (runc and brig runs never share one).
lc_cname() { echo "brig-t-$RT-$1"; }
# lc_rm_on_exit NAME: remove container NAME (whatever its state) when the scenario ends.
lc_rm_on_exit() { on_exit "pm rm -f -t 0 $1 >/dev/null 2>&1"; }
# lc_run_d NAME ARGS...: podman run -d --name NAME $CG ARGS..., removed when the scenario ends.
lc_run_d() {
    local name=$1
    shift
    lc_rm_on_exit "$name"
    pmr run -d --name "$name" $CG "$@" >/dev/null
}
# lc_state NAME: the container's State.Status as podman inspect reports it.
lc_state() { pm inspect -f '{{.State.Status}}' "$1"; }
# lc_exit_code NAME: the container's State.ExitCode.
lc_exit_code() { pm inspect -f '{{.State.ExitCode}}' "$1"; }
# lc_logs_has NAME REGEX: podman logs of NAME has a line matching REGEX.
lc_logs_has() { pm logs "$1" 2>&1 | grep -Eq -- "$2"; }
# Read the first existing file of $2... inside container $1 (cgroup v1 name, then v2 name).
lc_cg_read() {
    local c=$1
    shift
    pm exec "$c" sh -c 'for f; do [ -r "$f" ] && { cat "$f"; exit 0; }; done; exit 1' sh "$@"
}
# The container's long id.
lc_cid() { pm inspect -f '{{.Id}}' "$1"; }
# Cgroup directories (any hierarchy) whose name holds container id $1.
lc_cgroups_of() { find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*/$CGROUP_PARENT/*" -name "*$1*" 2>/dev/null; }

# lc_pid_of NAME: the host pid of the container's init (0 when not running).
lc_pid_of() { pm inspect -f '{{.State.Pid}}' "$1"; }

# --- run --------------------------------------------------------------------------------

scenario run_attached
t_run_attached() {
    out=$(pmr run --rm $CG "$IMAGE" sh -c 'echo hello; exit 3' 2>&1) && rc=0 || rc=$?
    check_eq "output" "$out" hello
    check_eq "exit code" "$rc" 3
}

scenario run_stdout_stderr
t_run_stdout_stderr() {
    rc=0
    pmr run --rm $CG "$IMAGE" sh -c 'echo to-out; echo to-err >&2; exit 0' \
        >"$WORK/out.$RT" 2>"$WORK/err.$RT" || rc=$?
    check_eq "exit code" "$rc" 0
    check_eq "stdout" "$(cat "$WORK/out.$RT")" to-out
    check_eq "stderr" "$(cat "$WORK/err.$RT")" to-err
}

scenario run_tty
t_run_tty() {
    out=$(pmr run --rm -t $CG "$IMAGE" sh -c 'tty' | tr -d '\r')
    check_match "tty" "$out" '^/dev/pts/[0-9]+$'
    rc=0
    pmr run --rm -t $CG "$IMAGE" sh -c 'exit 5' >/dev/null || rc=$?
    check_eq "exit code with -t" "$rc" 5
}

scenario run_stdin
t_run_stdin() {
    out=$(printf 'line one\nline two\n' | pmr run --rm -i $CG "$IMAGE" sh -c 'cat; echo eof')
    check_eq "stdin echoed back" "$out" "$(printf 'line one\nline two\neof')"
    out=$(echo piped | pmr run --rm -i $CG "$IMAGE" sh -c 'read x; echo "got:$x"; [ ! -t 0 ]')
    check_eq "read from stdin" "$out" "got:piped"
    # bulk binary data through stdin and stdout, unchanged
    head -c 3000000 /dev/urandom >"$WORK/bulk.$RT"
    sum_in=$(md5sum <"$WORK/bulk.$RT")
    sum_out=$(pmr run --rm -i $CG "$IMAGE" cat <"$WORK/bulk.$RT" | md5sum)
    check_eq "3 MB through stdin/stdout" "$sum_out" "$sum_in"
}

scenario run_detached_logs
t_run_detached_logs() {
    c=$(lc_cname logs)
    lc_run_d "$c" "$IMAGE" sh -c 'echo out-line; echo err-line >&2; exit 9'
    check_eq "podman wait" "$(pm wait "$c")" 9
    out=$(pm logs "$c" 2>/dev/null)
    check_eq "logs stdout" "$out" out-line
    out=$(pm logs "$c" 2>&1 >/dev/null)
    check_eq "logs stderr" "$out" err-line
    check_eq "state" "$(lc_state "$c")" exited
}

scenario run_detached_tty_logs
t_run_detached_tty_logs() {
    c=$(lc_cname ttylogs)
    lc_run_d "$c" -t "$IMAGE" sh -c 'tty; echo done'
    check_eq "podman wait" "$(pm wait "$c")" 0
    out=$(pm logs "$c" | tr -d '\r')
    check_match "logs (tty)" "$out" '^/dev/pts/[0-9]+$'
    check_match "logs (tty) done" "$out" '^done$'
}

# --- exec --------------------------------------------------------------------------------

scenario exec_basic
t_exec_basic() {
    c=$(lc_cname exec)
    lc_run_d "$c" "$IMAGE" sleep 1000
    check_eq "exec output" "$(pmr exec "$c" sh -c 'echo from-exec; echo exec-err >&2' 2>/dev/null)" from-exec
    check_eq "exec stderr" "$(pmr exec "$c" sh -c 'echo from-exec; echo exec-err >&2' 2>&1 >/dev/null)" exec-err
    check_rc "exec exit code" 42 pmr exec "$c" sh -c 'exit 42'
    # the exec'd process shares the container's pid namespace: pid 1 is the sleep
    check_eq "pid 1 seen from exec" "$(pmr exec "$c" cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 "
    check_eq "container still running" "$(lc_state "$c")" running
}

scenario exec_tty
t_exec_tty() {
    c=$(lc_cname exectty)
    lc_run_d "$c" "$IMAGE" sleep 1000
    out=$(pmr exec -t "$c" tty | tr -d '\r')
    check_match "exec -t tty" "$out" '^/dev/pts/[0-9]+$'
    rc=0
    pmr exec -t "$c" sh -c 'exit 7' >/dev/null || rc=$?
    check_eq "exec -t exit code" "$rc" 7
}

scenario exec_stdin
t_exec_stdin() {
    c=$(lc_cname execin)
    lc_run_d "$c" "$IMAGE" sleep 1000
    out=$(printf 'alpha\nbeta\n' | pmr exec -i "$c" sh -c 'cat | tr a-z A-Z')
    check_eq "exec -i stdin" "$out" "$(printf 'ALPHA\nBETA')"
}

scenario exec_detached
t_exec_detached() {
    c=$(lc_cname execd)
    lc_run_d "$c" "$IMAGE" sleep 1000
    pmr exec -d "$c" sh -c 'sleep 0.3; echo made > /tmp/marker' >/dev/null
    wait_for "marker written by exec -d" 20 pm exec "$c" test -s /tmp/marker
    check_eq "marker" "$(pm exec "$c" cat /tmp/marker)" made
}

scenario exec_missing_binary
t_exec_missing_binary() {
    c=$(lc_cname execmiss)
    lc_run_d "$c" "$IMAGE" sleep 1000
    rc=0
    out=$(pmr exec "$c" /no/such/binary 2>&1) || rc=$?
    check_eq "exit code" "$rc" 127
    check_match "message names the binary" "$out" '/no/such/binary'
    check_match "message says why" "$out" '[Nn]o such file|not found'
    check_eq "container still running" "$(lc_state "$c")" running
}

scenario exec_user_env_workdir
t_exec_user_env_workdir() {
    c=$(lc_cname execopts)
    lc_run_d "$c" "$IMAGE" sleep 1000
    check_eq "--user" "$(pmr exec --user nobody "$c" id -u)" 65534
    check_eq "--user uid:gid" "$(pmr exec --user 123:456 "$c" sh -c 'echo $(id -u):$(id -g)')" 123:456
    check_eq "--env" "$(pmr exec --env FOO=bar-baz "$c" sh -c 'echo $FOO')" bar-baz
    check_eq "--workdir" "$(pmr exec --workdir /tmp "$c" pwd)" /tmp
    check_eq "default user" "$(pmr exec "$c" id -u)" 0
}

# --- stop, kill, wait, rm ----------------------------------------------------------------

scenario stop_sigkill_after_timeout
t_stop_sigkill_after_timeout() {
    c=$(lc_cname stopkill)
    # pid 1 without a handler ignores SIGTERM: stop must fall back to SIGKILL
    lc_run_d "$c" "$IMAGE" sleep 1000
    pmr stop -t 1 "$c" >/dev/null
    check_eq "state" "$(lc_state "$c")" exited
    check_eq "exit code" "$(lc_exit_code "$c")" 137
}

scenario stop_trapped_term
t_stop_trapped_term() {
    c=$(lc_cname stoptrap)
    lc_run_d "$c" "$IMAGE" sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for "trap installed" 20 lc_logs_has "$c" '^ready$'
    pmr stop -t 20 "$c" >/dev/null
    check_eq "state" "$(lc_state "$c")" exited
    check_eq "exit code" "$(lc_exit_code "$c")" 42
    check_match "logs" "$(pm logs "$c")" '^got-term$'
}

scenario kill_signal
t_kill_signal() {
    c=$(lc_cname kill)
    lc_run_d "$c" "$IMAGE" sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done'
    wait_for "trap installed" 20 lc_logs_has "$c" '^ready$'
    pmr kill -s USR1 "$c" >/dev/null
    wait_for "USR1 seen by the trap" 20 lc_logs_has "$c" '^got-usr1$'
    check_eq "still running after USR1" "$(lc_state "$c")" running
    pmr kill "$c" >/dev/null # SIGKILL by default
    check_eq "podman wait after kill" "$(pm wait "$c")" 137
}

scenario wait_exit_code
t_wait_exit_code() {
    c=$(lc_cname wait)
    lc_run_d "$c" "$IMAGE" sh -c 'sleep 0.5; exit 7'
    check_eq "podman wait" "$(pm wait "$c")" 7
    check_eq "inspect exit code" "$(lc_exit_code "$c")" 7
    check_eq "state" "$(lc_state "$c")" exited
}

scenario rm_force_running
t_rm_force_running() {
    c=$(lc_cname rmf)
    lc_run_d "$c" "$IMAGE" sleep 1000
    id=$(lc_cid "$c")
    pid=$(lc_pid_of "$c")
    check_match "container pid" "$pid" '^[1-9][0-9]*$'
    pmr rm -f -t 0 "$c" >/dev/null
    check_rc "container gone" 1 pm container exists "$c"
    wait_for "container process gone" 10 sh -c "! kill -0 $pid"
    check_eq "leftover cgroups" "$(lc_cgroups_of "$id")" ""
}

scenario rm_auto_cleanup
t_rm_auto_cleanup() {
    c=$(lc_cname autorm)
    lc_rm_on_exit "$c"
    out=$(pmr run --rm --name "$c" --cidfile "$WORK/cid.$RT" $CG "$IMAGE" sh -c 'echo bye')
    check_eq "output" "$out" bye
    id=$(cat "$WORK/cid.$RT")
    check_match "cidfile" "$id" '^[0-9a-f]{64}$'
    check_rc "container gone" 1 pm container exists "$c"
    check_eq "leftover cgroups" "$(lc_cgroups_of "$id")" ""
    # and detached --rm: gone once it exits
    pmr run -d --rm --name "$c" $CG "$IMAGE" sh -c 'sleep 0.3' >/dev/null
    wait_for "detached --rm container removed" 30 sh -c "! timeout 20 podman container exists $c"
}

# --- pause ---------------------------------------------------------------------------------

# A container that prints a counter every 0.1 s; lc_logs_count NAME = how many lines so far.
lc_logs_count() { pm logs "$1" 2>/dev/null | wc -l; }

scenario pause_unpause
t_pause_unpause() {
    c=$(lc_cname pause)
    lc_run_d "$c" "$IMAGE" sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'
    wait_for "counter started" 20 lc_logs_has "$c" '^3$'
    pmr pause "$c" >/dev/null
    check_eq "state" "$(lc_state "$c")" paused
    check_match "ps status" "$(pm ps -a --filter name="^$c\$" --format '{{.Status}}')" '^Paused'
    # frozen: the counter does not advance (give it plenty of time to do so if it could)
    n1=$(lc_logs_count "$c")
    sleep 1
    n2=$(lc_logs_count "$c")
    check_eq "counter frozen" "$n2" "$n1"
    pmr unpause "$c" >/dev/null
    check_eq "state after unpause" "$(lc_state "$c")" running
    wait_for "counter advances after unpause" 20 sh -c "[ \$(timeout 20 podman logs $c 2>/dev/null | wc -l) -gt $((n1 + 2)) ]"
}

scenario exec_paused_refused
t_exec_paused_refused() {
    c=$(lc_cname execpaused)
    lc_run_d "$c" "$IMAGE" sleep 1000
    pmr pause "$c" >/dev/null
    rc=0
    out=$(pmr exec "$c" echo should-not-run 2>&1) || rc=$?
    [ "$rc" != 0 ] || fail "exec into a paused container succeeded: $out"
    check_match "refusal" "$out" 'state improper|paused'
    pmr unpause "$c" >/dev/null
    check_eq "exec after unpause" "$(pmr exec "$c" echo runs)" runs
}

# --- inspection ----------------------------------------------------------------------------

scenario top
t_top() {
    c=$(lc_cname top)
    lc_run_d "$c" "$IMAGE" sh -c 'sleep 1000 & wait'
    wait_for "sleep started" 20 sh -c "timeout 20 podman top $c | grep -q 'sleep 1000'"
    out=$(pm top "$c" pid args)
    check_match "top pid 1" "$out" '^ *1 +sh -c'
    check_match "top child" "$out" 'sleep 1000'
}

scenario stats
t_stats() {
    c=$(lc_cname stats)
    lc_run_d "$c" --memory 64m "$IMAGE" sh -c 'sleep 1000 & sleep 1000 & wait'
    wait_for "3 processes" 20 sh -c "[ \$(timeout 20 podman top $c pid | wc -l) = 4 ]"
    out=$(pm stats --no-stream --format '{{.PIDs}}|{{.MemUsage}}' "$c")
    echo "stats: $out"
    check_eq "pids" "${out%%|*}" 3
    mem=${out#*|}
    check_match "memory usage and limit" "$mem" '^[0-9.]+[kMG]?B / 67.11MB$'
    check_match "memory usage non-zero" "$mem" '^([1-9]|0\.[0-9]*[1-9])'
    js=$(pm stats --no-stream --format json "$c")
    check_match "json pids" "$js" '"pids": "3"'
}

scenario ps_inspect_states
t_ps_inspect_states() {
    c=$(lc_cname states)
    lc_rm_on_exit "$c"
    pmr create --name "$c" $CG "$IMAGE" sleep 1000 >/dev/null
    ps_status() { pm ps -a --filter name="^$c\$" --format '{{.Status}}'; }
    check_eq "created: inspect" "$(lc_state "$c")" created
    check_match "created: ps" "$(ps_status)" '^Created'
    pmr start "$c" >/dev/null
    check_eq "running: inspect" "$(lc_state "$c")" running
    check_match "running: ps" "$(ps_status)" '^Up '
    check_eq "running: inspect Running" "$(pm inspect -f '{{.State.Running}}' "$c")" true
    pmr pause "$c" >/dev/null
    check_eq "paused: inspect" "$(lc_state "$c")" paused
    check_match "paused: ps" "$(ps_status)" '^Paused'
    pmr unpause "$c" >/dev/null
    pmr stop -t 0 "$c" >/dev/null
    check_eq "exited: inspect" "$(lc_state "$c")" exited
    check_match "exited: ps" "$(ps_status)" '^Exited \(137\)'
    check_eq "exited: not in ps without -a" "$(pm ps --filter name="^$c\$" --format '{{.Names}}')" ""
}

# --- resources -----------------------------------------------------------------------------

scenario memory_limit
t_memory_limit() {
    c=$(lc_cname mem)
    lc_run_d "$c" --memory 96m "$IMAGE" sleep 1000
    check_eq "limit in the cgroup" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max)" 100663296
    check_eq "inspect HostConfig.Memory" "$(pm inspect -f '{{.HostConfig.Memory}}' "$c")" 100663296
}

# lc_cpu_quota NAME: "QUOTA PERIOD" of the container's cpu cgroup (v1 files or v2 cpu.max).
lc_cpu_quota() {
    pm exec "$1" sh -c 'if [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
        else cat /sys/fs/cgroup/cpu.max; fi'
}

scenario cpus_limit
t_cpus_limit() {
    c=$(lc_cname cpus)
    lc_run_d "$c" --cpus 0.5 "$IMAGE" sleep 1000
    check_eq "quota/period in the cgroup" "$(lc_cpu_quota "$c")" "50000 100000"
    check_eq "inspect HostConfig.NanoCpus" "$(pm inspect -f '{{.HostConfig.NanoCpus}}' "$c")" 500000000
}

scenario pids_limit
t_pids_limit() {
    c=$(lc_cname pids)
    lc_run_d "$c" --pids-limit 10 "$IMAGE" sleep 1000
    check_eq "pids.max in the cgroup" "$(lc_cg_read "$c" /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max)" 10
    check_eq "inspect HostConfig.PidsLimit" "$(pm inspect -f '{{.HostConfig.PidsLimit}}' "$c")" 10
    # a fork bomb of 20 background sleeps hits the limit: fork fails, never more than 10 tasks
    out=$(pmr exec "$c" sh -c 'for i in $(seq 20); do sleep 5 & done; wait' 2>&1) && rc=0 || rc=$?
    echo "fork bomb: rc=$rc $out"
    check_match "fork refused" "$out" "can't fork"
    id=$(lc_cid "$c")
    n=$(for d in $(lc_cgroups_of "$id"); do cat "$d/pids.current" 2>/dev/null; done | head -1)
    check_match "pids.current within the limit" "$n" '^([1-9]|10)$'
}

scenario update_resources
t_update_resources() {
    c=$(lc_cname update)
    lc_run_d "$c" --memory 64m --cpus 0.5 "$IMAGE" sleep 1000
    pmr update --memory 128m --memory-swap 256m --cpus 1.5 --cpu-shares 512 "$c" >/dev/null
    check_eq "memory limit after update" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max)" 134217728
    check_eq "cpu quota after update" "$(lc_cpu_quota "$c")" "150000 100000"
    shares=$(lc_cg_read "$c" /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu.weight)
    check_match "cpu shares/weight after update" "$shares" '^(512|20)$'
    # (podman 4.3 inspect keeps showing the create-time limits after update: not checked)
    check_eq "still running" "$(lc_state "$c")" running
}

scenario oom_killed
t_oom_killed() {
    c=$(lc_cname oom)
    rm -f "$WORK/oom" # from an earlier run's second container, whose OOM conmon may see late
    # dd's 100 MiB buffer cannot fit in 32 MiB (no swap): the OOM killer takes pid 1 itself
    lc_run_d "$c" --memory 32m --memory-swap 32m "$IMAGE" sh -c 'exec dd if=/dev/zero of=/dev/null bs=100M count=1'
    check_eq "podman wait" "$(pm wait "$c")" 137
    check_eq "inspect ExitCode" "$(lc_exit_code "$c")" 137
    # conmon saw the OOM in the container's cgroup (memory.oom_control / memory.events of the
    # cgroup the runtime put the init in): conmon 2.1.6 writes `oom` into its cwd (lib.sh runs
    # the suite from $WORK), while podman 4.3 looks for it in the bundle dir, so State.OOMKilled
    # stays false whatever the runtime (runc too, on hybrid and pure v2 hosts).
    check_eq "conmon noticed the OOM kill" "$(ls "$WORK/oom" 2>&1)" "$WORK/oom"
    # a child killed instead: pid 1 survives and the cgroup's own oom_kill counter says so
    c2=$(lc_cname oom2)
    lc_run_d "$c2" --memory 32m --memory-swap 32m "$IMAGE" sh -c 'dd if=/dev/zero of=/dev/null bs=100M count=1
        echo dd=$?; cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null; exit 0'
    check_eq "podman wait (pid 1 survived)" "$(pm wait "$c2")" 0
    out=$(pm logs "$c2" 2>&1)
    echo "$out"
    check_match "dd killed" "$out" '^dd=137$'
    check_match "oom_kill counter" "$out" '^oom_kill [1-9]'
}

# --- start, restart, create, init ----------------------------------------------------------

scenario restart
t_restart() {
    c=$(lc_cname restart)
    lc_run_d "$c" "$IMAGE" sh -c 'echo started; sleep 1000'
    wait_for "first start" 20 lc_logs_has "$c" '^started$'
    pid1=$(lc_pid_of "$c")
    pmr restart -t 0 "$c" >/dev/null
    check_eq "running after restart" "$(lc_state "$c")" running
    pid2=$(lc_pid_of "$c")
    [ "$pid1" != "$pid2" ] || fail "same pid $pid1 after restart"
    wait_for "second start" 20 sh -c "[ \$(timeout 20 podman logs $c | grep -c '^started$') = 2 ]"
    check_eq "exec into the restarted container" "$(pmr exec "$c" echo ok)" ok
}

scenario start_attach_stopped
t_start_attach_stopped() {
    c=$(lc_cname startattach)
    lc_rm_on_exit "$c"
    pmr run --name "$c" $CG "$IMAGE" sh -c 'echo run-$(cat /tmp/n 2>/dev/null || echo 0); echo 1 >/tmp/n; exit 4' \
        >/dev/null || true
    check_eq "exited" "$(lc_state "$c")" exited
    rc=0
    out=$(pmr start -a "$c") || rc=$?
    check_eq "start -a output (container fs kept)" "$out" run-1
    check_eq "start -a exit code" "$rc" 4
}

scenario create_start
t_create_start() {
    c=$(lc_cname createstart)
    lc_rm_on_exit "$c"
    pmr create --name "$c" $CG -e GREETING=hi "$IMAGE" sh -c 'echo "$GREETING from $(hostname)"; exit 2' >/dev/null
    check_eq "created" "$(lc_state "$c")" created
    pmr start "$c" >/dev/null
    check_eq "podman wait" "$(pm wait "$c")" 2
    check_match "logs" "$(pm logs "$c")" '^hi from [0-9a-f]{12}$'
}

scenario init
t_init() {
    c=$(lc_cname init)
    lc_rm_on_exit "$c"
    pmr create --name "$c" $CG "$IMAGE" sh -c 'echo started; sleep 1000' >/dev/null
    pmr init "$c" >/dev/null
    check_eq "initialized" "$(lc_state "$c")" initialized
    pid=$(lc_pid_of "$c")
    check_match "init process exists" "$pid" '^[1-9][0-9]*$'
    # created in the runtime but not started: the user process has not run yet
    sleep 0.3
    check_eq "no output before start" "$(pm logs "$c")" ""
    pmr start "$c" >/dev/null
    check_eq "running" "$(lc_state "$c")" running
    check_eq "same pid after start" "$(lc_pid_of "$c")" "$pid"
    wait_for "output after start" 20 lc_logs_has "$c" '^started$'
}

scenario attach
t_attach() {
    c=$(lc_cname attach)
    lc_run_d "$c" -i "$IMAGE" sh -c 'read line; echo "got:$line"; exit 6'
    out=$(echo hello | pm attach "$c")
    check_eq "attach output" "$out" got:hello
    check_eq "exit code (podman wait)" "$(pm wait "$c")" 6
}

# --- runtime selection and errors ----------------------------------------------------------

scenario runtime_abs_path
t_runtime_abs_path() {
    c=$(lc_cname abspath)
    lc_rm_on_exit "$c"
    out=$(timeout 120 podman --runtime "$RTBIN" run --name "$c" $CG "$IMAGE" sh -c 'echo via-path; exit 3') && rc=0 || rc=$?
    check_eq "output" "$out" via-path
    check_eq "exit code" "$rc" 3
    check_eq "inspect OCIRuntime" "$(pm inspect -f '{{.OCIRuntime}}' "$c")" "$RTBIN"
}

scenario oci_log_error
t_oci_log_error() {
    c=$(lc_cname ocilog)
    lc_rm_on_exit "$c"
    rc=0
    out=$(pmr run --name "$c" $CG "$IMAGE" /no/such/exe 2>&1) || rc=$?
    echo "podman said: $out"
    check_eq "exit code" "$rc" 127
    check_match "message names the executable" "$out" '/no/such/exe'
    check_match "message says why" "$out" '[Nn]o such file|not found'
    # conmon passed --log-format=json: the runtime's log is JSON lines, the error among them
    log=$(find "$WORK/runroot" -path "*$(lc_cid "$c")*" -name oci-log | head -1)
    [ -n "$log" ] || fail "no oci-log file"
    echo "oci-log: $(cat "$log")"
    check_match "oci-log is JSON with an error" "$(cat "$log")" '^\{.*"level": ?"error".*/no/such/exe'
}

scenario parallel
t_parallel() {
    local i pids=()
    for i in 1 2 3 4 5; do
        lc_rm_on_exit "$(lc_cname par$i)"
        pmr run -d --name "$(lc_cname par$i)" $CG "$IMAGE" sleep 1000 >/dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a parallel podman run failed"; done
    for i in 1 2 3 4 5; do
        check_eq "par$i running" "$(lc_state "$(lc_cname par$i)")" running
    done
    # and 5 execs at once into one of them
    pids=()
    for i in 1 2 3 4 5; do
        pmr exec "$(lc_cname par1)" sh -c "echo exec-$i >/tmp/exec-$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a parallel podman exec failed"; done
    check_eq "all execs ran" "$(pm exec "$(lc_cname par1)" sh -c 'cat /tmp/exec-*' | sort | tr '\n' ' ')" \
        "exec-1 exec-2 exec-3 exec-4 exec-5 "
    pids=()
    for i in 1 2 3 4 5; do
        pm rm -f -t 0 "$(lc_cname par$i)" >/dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a parallel podman rm failed"; done
    check_eq "all removed" "$(pm ps -a --filter name="^brig-t-$RT-par" --format '{{.Names}}')" ""
}

# --- edges: paused containers, signals through podman, fds, runtime state ------------------

scenario kill_paused
t_kill_paused() {
    c=$(lc_cname killpaused)
    lc_run_d "$c" "$IMAGE" sleep 1000
    pid=$(lc_pid_of "$c")
    pmr pause "$c" >/dev/null
    # (podman 4.3 refuses `stop` of a paused container; `kill` goes to the runtime)
    pmr kill "$c" >/dev/null
    pmr unpause "$c" >/dev/null 2>&1 || true
    check_eq "podman wait" "$(pm wait "$c")" 137
    wait_for "process gone" 10 sh -c "! kill -0 $pid"
}

scenario rm_force_paused
t_rm_force_paused() {
    c=$(lc_cname rmpaused)
    lc_run_d "$c" "$IMAGE" sh -c 'sleep 1000 & sleep 1000'
    id=$(lc_cid "$c")
    pid=$(lc_pid_of "$c")
    pmr pause "$c" >/dev/null
    pmr rm -f -t 0 "$c" >/dev/null
    check_rc "container gone" 1 pm container exists "$c"
    wait_for "process gone" 10 sh -c "! kill -0 $pid"
    check_eq "leftover cgroups" "$(lc_cgroups_of "$id")" ""
}

scenario exec_exit_status_edges
t_exec_exit_status_edges() {
    c=$(lc_cname execedges)
    lc_run_d "$c" "$IMAGE" sleep 1000
    rc=0
    out=$(pmr exec "$c" /etc/passwd 2>&1) || rc=$?
    check_eq "not executable: exit code" "$rc" 126
    check_match "not executable: message" "$out" '[Pp]ermission denied'
    rc=0
    out=$(pmr exec "$c" no-such-cmd 2>&1) || rc=$?
    check_eq "not in PATH: exit code" "$rc" 127
    check_match "not in PATH: message" "$out" 'no-such-cmd.*(not found|[Nn]o such file)'
    check_rc "killed by a signal" 137 pmr exec "$c" sh -c 'kill -9 $$'
    check_eq "container env seen by exec" "$(pmr exec "$c" sh -c 'echo $PATH')" \
        "$(pm inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$c" | sed -n 's/^PATH=//p')"
}

scenario sig_proxy
t_sig_proxy() {
    c=$(lc_cname sigproxy)
    lc_rm_on_exit "$c"
    # attached podman run proxies signals it gets to the container (runtime kill ID 10)
    # (podman itself, not under `timeout`, which would take the signal)
    podman --runtime "$RT" run --name "$c" $CG "$IMAGE" \
        sh -c 'trap "echo got-usr1; exit 11" USR1; echo ready; while :; do sleep 0.1; done' \
        >"$WORK/sigproxy.$RT" 2>&1 &
    ppid=$!
    on_exit "kill -9 $ppid 2>/dev/null"
    wait_for "trap installed" 30 grep -q '^ready$' "$WORK/sigproxy.$RT"
    kill -USR1 "$ppid"
    # (bounded: `wait` only once podman has ended, i.e. is gone or a zombie)
    wait_for "podman run to end" 30 sh -c "! test -e /proc/$ppid || grep -q ') Z ' /proc/$ppid/stat"
    rc=0
    wait "$ppid" || rc=$?
    check_eq "podman run exit code" "$rc" 11
    check_match "container saw USR1" "$(cat "$WORK/sigproxy.$RT")" '^got-usr1$'
}

scenario preserve_fds
t_preserve_fds() {
    c=$(lc_cname fds)
    lc_rm_on_exit "$c"
    out=$(pmr run --rm --preserve-fds 1 $CG "$IMAGE" sh -c 'cat <&3; ls /proc/self/fd | sort -n | tr "\n" " "' \
        3<<<"through-fd3")
    check_match "fd 3 handed to the container" "$out" '^through-fd3$'
    check_match "no other fds" "$out" '^0 1 2 3 [0-9]+ $'
    lc_run_d "$c" "$IMAGE" sleep 1000
    out=$(pmr exec --preserve-fds 1 "$c" sh -c 'cat <&3' 3<<<"exec-fd3")
    check_eq "fd 3 handed to exec" "$out" exec-fd3
}

scenario ps_sync_state
t_ps_sync_state() {
    c=$(lc_cname sync)
    lc_run_d "$c" "$IMAGE" sleep 1000
    # --sync asks the runtime (`RUNTIME state ID`, no global flags) for each container
    check_match "ps --sync running" "$(pm ps --sync -a --filter name="^$c\$" --format '{{.Status}}')" '^Up '
    pmr pause "$c" >/dev/null
    check_match "ps --sync paused" "$(pm ps --sync -a --filter name="^$c\$" --format '{{.Status}}')" '^Paused'
    pmr unpause "$c" >/dev/null
    pmr stop -t 0 "$c" >/dev/null
    check_match "ps --sync exited" "$(pm ps --sync -a --filter name="^$c\$" --format '{{.Status}}')" '^Exited'
}

scenario run_init
t_run_init() {
    command -v catatonit >/dev/null || [ -x /usr/libexec/podman/catatonit ] || fail "catatonit not installed"
    c=$(lc_cname runinit)
    lc_run_d "$c" --init "$IMAGE" sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for "ready" 20 lc_logs_has "$c" '^ready$'
    check_match "pid 1 is the init" "$(pmr exec "$c" cat /proc/1/cmdline | tr '\0' ' ')" 'catatonit|init'
    pmr stop -t 20 "$c" >/dev/null
    check_eq "exit code (TERM forwarded by the init)" "$(lc_exit_code "$c")" 0
}

scenario memory_swap_reservation
t_memory_swap_reservation() {
    c=$(lc_cname memswap)
    lc_run_d "$c" --memory 64m --memory-swap 128m --memory-reservation 32m "$IMAGE" sleep 1000
    check_eq "memory limit" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max)" 67108864
    # v1: memsw = memory + swap; v2: memory.swap.max = swap only
    sw=$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/memory.swap.max)
    check_match "swap limit" "$sw" '^(134217728|67108864)$'
    check_eq "reservation" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.soft_limit_in_bytes /sys/fs/cgroup/memory.low)" 33554432
}

scenario update_cpuset
t_update_cpuset() {
    c=$(lc_cname cpuset)
    lc_run_d "$c" "$IMAGE" sleep 1000
    pmr update --cpuset-cpus 0 --cpu-shares 256 --memory 48m "$c" >/dev/null
    check_eq "cpuset.cpus" "$(lc_cg_read "$c" /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset.cpus)" 0
    check_eq "memory" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max)" 50331648
    check_match "affinity of a new process" "$(pm exec "$c" grep Cpus_allowed_list /proc/self/status)" ':\s+0$'
    # and a second update on top of the first
    pmr update --memory 80m "$c" >/dev/null
    check_eq "memory after 2nd update" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max)" 83886080
    check_eq "cpuset kept" "$(lc_cg_read "$c" /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset.cpus)" 0
}

scenario restart_exited
t_restart_exited() {
    c=$(lc_cname restartexit)
    lc_run_d "$c" "$IMAGE" sh -c 'echo run; exit 3'
    check_eq "first run" "$(pm wait "$c")" 3
    pmr start "$c" >/dev/null
    check_eq "second run" "$(pm wait "$c")" 3
    pmr restart "$c" >/dev/null
    check_eq "third run" "$(pm wait "$c")" 3
    check_eq "three runs in the logs" "$(pm logs "$c" | grep -c '^run$')" 3
}

scenario stop_signal
t_stop_signal() {
    c=$(lc_cname stopsig)
    lc_run_d "$c" --stop-signal USR1 "$IMAGE" sh -c 'trap "exit 5" USR1; trap "exit 15" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for "traps installed" 20 lc_logs_has "$c" '^ready$'
    pmr stop -t 20 "$c" >/dev/null
    check_eq "exit code (USR1 trap, not TERM)" "$(lc_exit_code "$c")" 5
    # kill with a numeric signal
    pmr start "$c" >/dev/null
    wait_for "restarted" 20 sh -c "[ \$(timeout 20 podman logs $c | grep -c '^ready$') = 2 ]"
    pmr kill -s 15 "$c" >/dev/null
    check_eq "exit code after kill -s 15" "$(pm wait "$c")" 15
}

scenario healthcheck
t_healthcheck() {
    c=$(lc_cname health)
    # (no systemd here: podman logs that it cannot add timers; `healthcheck run` works anyway)
    lc_run_d "$c" --health-cmd 'test -e /tmp/healthy' "$IMAGE" sleep 1000 2>/dev/null
    check_rc "healthcheck fails" 1 pm healthcheck run "$c"
    pm exec "$c" touch /tmp/healthy
    check_rc "healthcheck passes" 0 pm healthcheck run "$c"
    check_eq "health status" "$(pm inspect -f '{{.State.Health.Status}}' "$c")" healthy
}

scenario pod
t_pod() {
    p=$(lc_cname pod)
    on_exit "pm pod rm -f -t 0 $p >/dev/null 2>&1"
    # the infra container (catatonit, podman's local pause image) runs under $RT too
    pmr pod create --name "$p" --cgroup-parent "/$CGROUP_PARENT" >/dev/null
    pmr run -d --pod "$p" --name "$(lc_cname inpod1)" "$IMAGE" sh -c 'echo shared >/dev/shm/x; sleep 1000' >/dev/null
    check_eq "infra runtime" "$(pm inspect -f '{{.OCIRuntime}}' "$(pm pod inspect -f '{{.InfraContainerID}}' "$p")")" "$RT"
    wait_for "first container wrote to /dev/shm" 20 pm exec "$(lc_cname inpod1)" test -e /dev/shm/x
    # a second container joins the pod's namespaces (ipc, uts, net): same hostname, same shm
    out=$(pmr run --rm --pod "$p" "$IMAGE" sh -c 'cat /dev/shm/x; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc')
    check_match "shm shared" "$out" '^shared$'
    check_eq "uts shared" "$(echo "$out" | sed -n 2p)" "$(pm exec "$(lc_cname inpod1)" readlink /proc/self/ns/uts)"
    check_eq "ipc shared" "$(echo "$out" | sed -n 3p)" "$(pm exec "$(lc_cname inpod1)" readlink /proc/self/ns/ipc)"
    pm pod stop -t 0 "$p" >/dev/null
    check_eq "pod stopped" "$(pm pod inspect -f '{{.State}}' "$p")" Exited
    pm pod start "$p" >/dev/null
    check_eq "pod running again" "$(pm pod inspect -f '{{.State}}' "$p")" Running
    check_eq "member running" "$(lc_state "$(lc_cname inpod1)")" running
    pm pod rm -f -t 0 "$p" >/dev/null
    check_rc "pod gone" 1 pm pod exists "$p"
}

scenario runtime_info_debug_flag
t_runtime_info_debug_flag() {
    # podman info runs `RUNTIME --version` and shows its first line
    out=$(pmr info --format '{{.Host.OCIRuntime.Name}}|{{.Host.OCIRuntime.Path}}|{{.Host.OCIRuntime.Version}}')
    check_match "podman info" "$out" "^$RT\|$RTBIN\|$RT version [0-9]"
    # --runtime-flag debug becomes the runtime's global --debug on create/start/exec
    dbg() { timeout 120 podman --runtime "$RT" --runtime-flag debug "$@"; }
    c=$(lc_cname debugflag)
    lc_rm_on_exit "$c"
    out=$(dbg run --name "$c" $CG "$IMAGE" sh -c 'echo dbg-ok; exit 2') && rc=0 || rc=$?
    check_eq "run output with --debug" "$out" dbg-ok
    check_eq "run exit code with --debug" "$rc" 2
    c2=$(lc_cname debugflag2)
    lc_rm_on_exit "$c2"
    dbg run -d --name "$c2" $CG "$IMAGE" sleep 1000 >/dev/null
    check_eq "exec with --debug" "$(dbg exec "$c2" echo exec-ok)" exec-ok
    check_rc "exec exit code with --debug" 4 dbg exec "$c2" sh -c 'exit 4'
    rc=0
    out=$(dbg run --rm $CG "$IMAGE" /no/such/exe 2>&1) || rc=$?
    check_eq "missing exe with --debug: exit code" "$rc" 127
    check_match "missing exe with --debug: message" "$out" '/no/such/exe.*([Nn]o such file|not found)'
}

scenario update_more
t_update_more() {
    c=$(lc_cname updmore)
    lc_run_d "$c" "$IMAGE" sleep 1000
    pmr update --cpu-period 50000 --cpu-quota 20000 --memory-reservation 20m "$c" >/dev/null
    check_eq "cpu quota/period" "$(lc_cpu_quota "$c")" "20000 50000"
    check_eq "reservation" \
        "$(lc_cg_read "$c" /sys/fs/cgroup/memory/memory.soft_limit_in_bytes /sys/fs/cgroup/memory.low)" 20971520
    if pm exec "$c" sh -c 'test -e /sys/fs/cgroup/blkio/blkio.bfq.weight || test -e /sys/fs/cgroup/io.bfq.weight'; then
        pmr update --blkio-weight 300 "$c" >/dev/null
        check_match "blkio weight (bfq)" \
            "$(lc_cg_read "$c" /sys/fs/cgroup/blkio/blkio.bfq.weight /sys/fs/cgroup/io.bfq.weight)" '(^| )300$'
    fi
    # (not checked: --device-read-bps and --memory-swappiness, which runc 1.1's update ignores
    # and brig applies)
    # an update the kernel refuses: a clear error, a non-zero status, the container unharmed
    rc=0
    out=$(pmr update --cpu-rt-runtime 1000 "$c" 2>&1) || rc=$?
    [ "$rc" != 0 ] || fail "update of cpu.rt_runtime_us succeeded: $out"
    check_match "error names the setting" "$out" 'rt_runtime_us|realtimeRuntime'
    check_eq "still running" "$(lc_state "$c")" running
    # no update of a stopped container
    pmr stop -t 0 "$c" >/dev/null
    rc=0
    out=$(pmr update --memory 20m "$c" 2>&1) || rc=$?
    [ "$rc" != 0 ] || fail "update of a stopped container succeeded: $out"
    check_match "error" "$out" 'does not exist|not running|stopped'
}
