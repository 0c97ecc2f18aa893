# containerd scenarios: metrics, resource limits, OOM (sourced by containerd.sh; see lib.sh for
# the helpers). Limits are read back from the v1 controllers or the cgroup2 files (cg_read).

scenario metrics
t_metrics() {
    local id=$RT-metrics
    ids "$id"
    crd "$id" --memory-limit 67108864 -- \
        sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done >/tmp/busy; sleep 1000'
    wait_for "busy loop done" 60 ce --exec-id m0 "$id" test -s /tmp/busy
    # containerd-shim-runc-v2 1.6 reads the container's cgroup itself (the init's cgroup).
    m=$(c task metrics --format json "$id")
    echo "$m"
    # The shim's metrics types differ: cgroups v1 (usage in ns, per cpu) or v2 (usage in usec).
    if cg_v2; then
        limit=.memory.usage_limit usage=.memory.usage cpu=.cpu.usage_usec min_cpu=1000
    else
        limit=.memory.usage.limit usage=.memory.usage.usage cpu=.cpu.usage.total min_cpu=1000000
        check_eq "per-cpu entries" "$(jq -r '.cpu.usage.per_cpu | length' <<<"$m")" "$(nproc)"
    fi
    check_eq "memory limit" "$(jq -r $limit <<<"$m")" 67108864
    usage=$(jq -r $usage <<<"$m")
    check_match "memory usage" "$usage" '^[0-9]+$'
    if [ "$usage" -le 0 ] || [ "$usage" -ge 67108864 ]; then fail "memory usage $usage not in (0, limit)"; fi
    check_eq "pids.current" "$(jq -r .pids.current <<<"$m")" 1
    cpu=$(jq -r $cpu <<<"$m")
    [ "$cpu" -gt $min_cpu ] || fail "cpu usage $cpu: the busy loop should have used more than 1 ms"
    # the table form
    t=$(c task metrics "$id")
    echo "$t"
    if cg_v2; then
        check_match "table" "$t" '^memory.usage_limit +67108864 *$'
    else
        check_match "table" "$t" '^memory.limit_in_bytes +67108864 *$'
    fi
    check_match "table pids" "$t" '^pids.current +1 *$'
}

scenario limits_memory_cpu
t_limits_memory_cpu() {
    local id=$RT-limits
    ids "$id"
    crd "$id" --memory-limit 100663296 --cpu-quota 50000 --cpu-period 100000 --cpu-shares 512 \
        --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev -- sleep 1000
    rel=/$CGROUP_PARENT/$id
    check_eq "memory limit" "$(cg_read memory "$rel" memory.limit_in_bytes memory.max)" 100663296
    if cg_v2; then
        check_eq "cpu.max" "$(cg_read cpu "$rel" - cpu.max)" "50000 100000"
        check_eq "cpu.weight" "$(cg_read cpu "$rel" - cpu.weight)" "$(cg_weight 512)"
        inside='cat /sys/fs/cgroup$(awk -F: '"'"'$1 == "0" { print $3 }'"'"' /proc/self/cgroup)/memory.max'
    else
        check_eq "cpu.cfs_quota_us" "$(cg_read cpu "$rel" cpu.cfs_quota_us -)" 50000
        check_eq "cpu.cfs_period_us" "$(cg_read cpu "$rel" cpu.cfs_period_us -)" 100000
        check_eq "cpu.shares" "$(cg_read cpu "$rel" cpu.shares -)" 512
        inside='cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
    fi
    # the container sees its own cgroup at /sys/fs/cgroup (ctr's spec has no cgroup mount: we
    # ask for one)
    check_eq "seen inside" "$(ce --exec-id l1 "$id" sh -c "$inside")" 100663296
}

scenario limits_cpus
t_limits_cpus() {
    local id=$RT-cpus
    ids "$id"
    crd "$id" --cpus 1.5 -- sleep 1000
    if cg_v2; then
        check_eq "cpu.max" "$(cg_read cpu "/$CGROUP_PARENT/$id" - cpu.max)" "150000 100000"
    else
        check_eq "cpu.cfs_quota_us" "$(cat "$(cgdir cpu "$id")/cpu.cfs_quota_us")" 150000
        check_eq "cpu.cfs_period_us" "$(cat "$(cgdir cpu "$id")/cpu.cfs_period_us")" 100000
    fi
}

# ctr has no pids flag: a full spec through `ctr run --config`.
scenario limits_pids
t_limits_pids() {
    local id=$RT-pids
    ids "$id"
    # ash gives up when a fork fails: the forks happen in a child shell, which then exits; the
    # init shell execs its last command: 1 + 6 sleeps 100 + the child shell make the limit of 8,
    # which leaves sleep 1000 (pid 1) + 6 sleeps 100 = 7 processes.
    make_spec "$id" "$WORK/spec-$id.json" \
        '.linux.resources.pids = {limit: 8} | .process.args = ["sh", "-c", "sh -c \"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 100 & done\" 2>/tmp/err; echo done >/tmp/done; sleep 1000"]'
    timeout -k 5 60 ctr run -d --fifo-dir "$FIFO" $(rtopts) --config "$WORK/spec-$id.json" "$id"
    wait_for "running" 30 task_is "$id" RUNNING
    check_eq "pids.max" "$(cat "$(cgdir pids "$id")/pids.max")" 8
    pid=$(task_pid "$id")
    wait_for "the forks are done" 30 test -e "/proc/$pid/root/tmp/done"
    check_match "the shell could not fork past the limit" "$(cat "/proc/$pid/root/tmp/err")" "can't fork|Resource temporarily unavailable"
    wait_for "pids.current = 7" 30 test "$(cat "$(cgdir pids "$id")/pids.current")" = 7
    m=$(c task metrics --format json "$id")
    check_eq "metrics pids.limit" "$(jq -r .pids.limit <<<"$m")" 8
    check_eq "metrics pids.current" "$(jq -r .pids.current <<<"$m")" 7
    check_eq "processes listed by ctr task ps" "$(c task ps "$id" | tail -n +2 | wc -l)" 7
}

scenario oom
t_oom() {
    local id=$RT-oom ev=$WORK/events-$RT.out
    ids "$id"
    timeout -k 5 120 ctr events >"$ev" 2>&1 &
    evpid=$!
    on_exit "kill $evpid 2>/dev/null; wait $evpid 2>/dev/null"
    sleep 0.5
    # tail keeps the current line in memory: /dev/zero has no newline.
    out=$(cr "$id" --rm --memory-limit 16777216 -- tail /dev/zero 2>&1) && rc=0 || rc=$?
    check_eq "exit code (SIGKILL by the OOM killer)" "$rc" 137
    wait_for "/tasks/oom event" 30 grep -q "/tasks/oom.*$id" "$ev"
    grep "$id" "$ev"
    check_match "the oom event names the container" "$(grep /tasks/oom "$ev")" "\"?container_id\"?: ?\"$id\""
    check_match "exit event with 137" "$(grep "/tasks/exit.*$id" "$ev")" 'exit_status":137'
}
