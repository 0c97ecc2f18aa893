# podman scenarios: `podman run` options, each checked from inside the container (sourced by
# podman.sh; see lib.sh for the helpers). Every container is --rm (or removed by an on_exit) and
# lives under $CG.

# Run a throwaway container with the scenario's runtime; prints its combined output (also on
# stderr, into the log, when podman fails).
prun() {
    local out rc=0
    out=$(pmr run --rm $CG "$@" 2>&1) || rc=$?
    printf '%s\n' "$out"
    if [ $rc != 0 ]; then printf 'podman run %s: exit %s:\n%s\n' "$*" $rc "$out" >&2; fi
    return $rc
}
# A capability set line ("CapEff" ...) from /proc/self/status inside a container run with "$@".
capline() { prun "$@" "$IMAGE" grep "^$CAPWHAT:" /proc/self/status | awk '{print $2}'; }
# Is bit $2 set in the hex mask $1?
has_cap() { (((16#$1 >> $2) & 1)); }
# Does this machine's bounding set have CAP_SYS_RESOURCE (bit 24)?
host_has_sys_resource() { has_cap "$(awk '/^CapBnd:/ {print $2}' /proc/self/status)" 24; }
# A scratch directory under $WORK for the scenario.
scratch() {
    local d
    d=$(mktemp -d "$WORK/tmp/$1.XXXXXX")
    chmod 755 "$d"
    echo "$d"
}

scenario cap_drop
t_cap_drop() {
    # podman's default set has CAP_CHOWN (bit 0): chown works, and stops working without it.
    out=$(prun "$IMAGE" sh -c 'grep ^CapEff: /proc/self/status; touch /tmp/f && chown 65534 /tmp/f && stat -c %u /tmp/f')
    check_match "default: chown works" "$out" '^65534$'
    eff=$(awk '/^CapEff:/ {print $2}' <<<"$out")
    has_cap "$eff" 0 || fail "default CapEff $eff lacks CAP_CHOWN"
    out=$(prun --cap-drop CHOWN "$IMAGE" sh -c 'grep -E "^Cap(Eff|Bnd):" /proc/self/status; touch /tmp/f; chown 65534 /tmp/f && echo chowned; true')
    check_match "chown without CAP_CHOWN" "$out" 'Operation not permitted'
    if grep -q chowned <<<"$out"; then fail "chown succeeded without CAP_CHOWN"; fi
    for k in CapEff CapBnd; do
        m=$(awk -v k="$k:" '$1 == k {print $2}' <<<"$out")
        if has_cap "$m" 0; then fail "$k $m still has CAP_CHOWN"; fi
        has_cap "$m" 3 || fail "$k $m lost CAP_FOWNER too"
    done
    echo "ok: CAP_CHOWN dropped from CapEff and CapBnd"
}

scenario cap_add
t_cap_add() {
    # CAP_NET_ADMIN (bit 12) is not in podman's default set: changing lo's MTU needs it.
    out=$(prun "$IMAGE" sh -c 'grep ^CapEff: /proc/self/status; ip link set lo mtu 1280 && echo changed; true')
    check_match "default: no NET_ADMIN" "$out" 'Operation not permitted'
    out=$(prun --cap-add NET_ADMIN "$IMAGE" sh -c 'grep -E "^Cap(Eff|Bnd|Prm):" /proc/self/status; ip link set lo mtu 1280 && cat /sys/class/net/lo/mtu')
    check_match "with NET_ADMIN: lo mtu" "$out" '^1280$'
    for k in CapEff CapBnd CapPrm; do
        m=$(awk -v k="$k:" '$1 == k {print $2}' <<<"$out")
        has_cap "$m" 12 || fail "$k $m lacks CAP_NET_ADMIN"
    done
    echo "ok: CAP_NET_ADMIN in CapEff/CapBnd/CapPrm"
}

scenario privileged
t_privileged() {
    host_bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    # a host device outside the default set (hosts differ: the VM test bed has no loop-control)
    hostdev=
    for d in /dev/loop-control /dev/kmsg /dev/mem; do
        if [ -c "$d" ]; then hostdev=$d; break; fi
    done
    [ -n "$hostdev" ] || fail "no candidate host device here"
    out=$(prun --privileged "$IMAGE" sh -c '
        grep -E "^(Cap(Eff|Bnd)|Seccomp|NoNewPrivs):" /proc/self/status
        echo devices: $(ls /dev | wc -l)
        test -e '"$hostdev"' && echo has-host-device
        grep " /sys " /proc/mounts
        grep -c " /proc/kcore " /proc/mounts || true')
    check_eq "CapEff" "$(awk '/^CapEff:/ {print $2}' <<<"$out")" "$host_bnd"
    check_eq "CapBnd" "$(awk '/^CapBnd:/ {print $2}' <<<"$out")" "$host_bnd"
    check_match "seccomp off" "$out" '^Seccomp:[[:space:]]+0$'
    check_match "host device $hostdev" "$out" '^has-host-device$'
    check_match "/sys rw" "$out" ' /sys sysfs rw[, ]'
    check_match "/proc/kcore not masked" "$out" '^0$'
    ndev=$(awk '/^devices:/ {print $2}' <<<"$out")
    [ "$ndev" -gt 30 ] || fail "only $ndev entries in /dev"
    # ... and the unprivileged default for contrast.
    out=$(prun "$IMAGE" sh -c 'test -e '"$hostdev"' && echo has-host-device; grep " /sys " /proc/mounts')
    check_match "default: /sys ro" "$out" ' /sys sysfs ro[, ]'
    if grep -q has-host-device <<<"$out"; then fail "unprivileged container sees $hostdev"; fi
}

scenario read_only
t_read_only() {
    out=$(prun --read-only "$IMAGE" sh -c 'touch /rootfile && echo root-written; touch /tmp/f && echo tmp-written; touch /var/tmp/f && echo vartmp-written; grep " / " /proc/mounts')
    check_match "write to /" "$out" 'Read-only file system'
    if grep -q root-written <<<"$out"; then fail "wrote to a read-only /"; fi
    check_match "/tmp writable" "$out" '^tmp-written$'
    check_match "/ mounted ro" "$out" ' / [^ ]+ ro[, ]'
    out=$(prun --read-only --read-only-tmpfs=false "$IMAGE" sh -c 'touch /tmp/f && echo tmp-written; true')
    check_match "write to /tmp without tmpfs" "$out" 'Read-only file system'
    if grep -q tmp-written <<<"$out"; then fail "wrote to /tmp with --read-only-tmpfs=false"; fi
}

scenario user_group
t_user_group() {
    out=$(prun --user 1000:1001 --group-add 2000 --group-add 2001 "$IMAGE" sh -c 'id -u; id -g; id -G; grep -E "^(Uid|Gid|Groups|CapEff):" /proc/self/status')
    check_eq "id -u" "$(sed -n 1p <<<"$out")" 1000
    check_eq "id -g" "$(sed -n 2p <<<"$out")" 1001
    check_eq "id -G" "$(sed -n 3p <<<"$out")" "1001 2000 2001"
    check_match "Uid line" "$out" '^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$'
    check_match "Groups line" "$out" '^Groups:[[:space:]]+1001 2000 2001 ?$'
    check_match "non-root CapEff is empty" "$out" '^CapEff:[[:space:]]+0+$'
    out=$(prun --user nobody "$IMAGE" id)
    check_eq "--user nobody" "$out" "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)"
}

scenario seccomp_profile
t_seccomp_profile() {
    d=$(scratch seccomp)
    cat >"$d/deny-mkdir.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 },
    { "names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }
  ]
}
EOF
    out=$(prun --security-opt seccomp="$d/deny-mkdir.json" "$IMAGE" sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d && echo made; touch /tmp/f && echo touched; true')
    check_match "seccomp mode" "$out" '^Seccomp:[[:space:]]+2$'
    check_match "mkdir denied" "$out" 'Operation not permitted'
    if grep -q '^made$' <<<"$out"; then fail "mkdir succeeded under the profile"; fi
    check_match "other syscalls allowed" "$out" '^touched$'
    # Default profile for contrast: mkdir works.
    out=$(prun "$IMAGE" sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d && echo made')
    check_match "default: filtered" "$out" '^Seccomp:[[:space:]]+2$'
    check_match "default: mkdir works" "$out" '^made$'
}

scenario seccomp_unconfined
t_seccomp_unconfined() {
    out=$(prun --security-opt seccomp=unconfined "$IMAGE" grep -E '^Seccomp(_filters)?:' /proc/self/status)
    check_match "Seccomp" "$out" '^Seccomp:[[:space:]]+0$'
    # The default profile makes e.g. keyctl/add_key EPERM... but busybox has no client: check the
    # default filter count instead.
    out=$(prun "$IMAGE" grep '^Seccomp_filters:' /proc/self/status)
    check_match "default has a filter" "$out" '^Seccomp_filters:[[:space:]]+[1-9]'
}

scenario no_new_privileges
t_no_new_privileges() {
    out=$(prun --security-opt no-new-privileges "$IMAGE" grep ^NoNewPrivs: /proc/self/status)
    check_match "with the option" "$out" '^NoNewPrivs:[[:space:]]+1$'
    out=$(prun "$IMAGE" grep ^NoNewPrivs: /proc/self/status)
    check_match "default" "$out" '^NoNewPrivs:[[:space:]]+0$'
}

scenario device
t_device() {
    out=$(prun --device /dev/zero:/dev/myzero "$IMAGE" sh -c 'ls -l /dev/myzero; head -c 5 /dev/myzero | wc -c')
    check_match "device node" "$out" '^crw.* 1, +5 .*/dev/myzero$'
    check_match "readable" "$out" '^5$'
    # The device cgroup: a node made for loop-control (10:237) cannot be opened, unless passed.
    out=$(prun --cap-add MKNOD "$IMAGE" sh -c 'mknod /tmp/lc c 10 237 && echo made; cat /tmp/lc >/dev/null && echo opened; true')
    check_match "mknod allowed" "$out" '^made$'
    check_match "open denied by the device cgroup" "$out" 'Operation not permitted'
    if grep -q '^opened$' <<<"$out"; then fail "opened a device the cgroup should deny"; fi
    out=$(prun --device /dev/loop-control "$IMAGE" sh -c 'ls -l /dev/loop-control; cat /dev/loop-control >/dev/null && echo opened; true')
    check_match "passed device node" "$out" '^crw.* 10, +237 .*/dev/loop-control$'
    if grep -q 'Operation not permitted' <<<"$out"; then fail "passed device denied: $out"; fi
}

scenario ulimit
t_ulimit() {
    # Any --ulimit makes podman drop containers.conf's default_ulimits and ask for nproc=1048576
    # (above this machine's hard limit, which runc cannot raise either): give nproc too.
    out=$(prun --ulimit nofile=4321:4321 --ulimit nproc=4096:4096 "$IMAGE" sh -c 'ulimit -Sn; ulimit -Hn')
    check_eq "nofile soft/hard" "$out" "4321
4321"
    out=$(prun --ulimit nofile=300:20000 --ulimit nproc=77:88 "$IMAGE" sh -c 'ulimit -Sn; ulimit -Hn; grep -E "^Max (open files|processes)" /proc/self/limits')
    check_eq "nofile soft" "$(sed -n 1p <<<"$out")" 300
    check_eq "nofile hard" "$(sed -n 2p <<<"$out")" 20000
    check_match "nproc" "$out" '^Max processes +77 +88 '
    # Above the hard limit no runtime can go without CAP_SYS_RESOURCE: the run must fail.
    host_has_sys_resource || check_rc "nofile above the hard limit" 126 pmr run --rm $CG --ulimit nofile=30000:30000 --ulimit nproc=4096:4096 "$IMAGE" true
}

scenario oom_score_adj
t_oom_score_adj() {
    out=$(prun --oom-score-adj 567 "$IMAGE" cat /proc/self/oom_score_adj)
    check_eq "oom_score_adj" "$out" 567
    out=$(prun --oom-score-adj 1000 "$IMAGE" cat /proc/self/oom_score_adj)
    check_eq "oom_score_adj 1000" "$out" 1000
    # Lowering it below podman's own needs CAP_SYS_RESOURCE, which this machine's bounding set
    # lacks: the create must fail (runc: EPERM too), not start a container with a wrong value.
    if host_has_sys_resource; then
        out=$(prun --oom-score-adj -3 "$IMAGE" cat /proc/self/oom_score_adj)
        check_eq "negative oom_score_adj" "$out" -3
    else
        check_rc "oom_score_adj below the caller's" 126 pmr run --rm $CG --oom-score-adj -3 "$IMAGE" true
    fi
}

scenario sysctl
t_sysctl() {
    host=$(cat /proc/sys/kernel/msgmax)
    out=$(prun --ipc private --sysctl kernel.msgmax=12345 "$IMAGE" cat /proc/sys/kernel/msgmax)
    check_eq "kernel.msgmax" "$out" 12345
    check_eq "host msgmax untouched" "$(cat /proc/sys/kernel/msgmax)" "$host"
    out=$(prun --network none --sysctl net.ipv4.ip_unprivileged_port_start=99 "$IMAGE" cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
    check_eq "ip_unprivileged_port_start" "$out" 99
}

scenario tmpfs
t_tmpfs() {
    out=$(prun --tmpfs /scratch:rw,size=5m,mode=1770,noexec "$IMAGE" sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo x >/scratch/f && cat /scratch/f')
    check_match "mount" "$out" '^tmpfs /scratch tmpfs rw,.*noexec'
    check_match "size" "$out" ' /scratch tmpfs .*size=5120k'
    check_match "mode" "$out" ' /scratch tmpfs .*mode=1770'
    check_match "dir mode" "$out" '^1770$'
    check_match "writable" "$out" '^x$'
    # Over an existing directory (the image's /etc and /tmp, 755) a tmpfs takes that directory's
    # mode and is filled from it (podman asks for tmpcopyup), also a read-only one; a new
    # directory gets mode=.
    out=$(prun --tmpfs /etc:mode=700 --tmpfs /tmp:ro,mode=1777 --tmpfs /var/new:ro,mode=700 "$IMAGE" sh -c '
        stat -c "%n %a" /etc /tmp /var/new; grep -c root: /etc/passwd; grep -E " /(etc|tmp|var/new) " /proc/mounts
        touch /tmp/x 2>&1; true')
    check_match "existing dir keeps its mode" "$out" '^/etc 755$'
    check_match "existing dir keeps its mode (ro)" "$out" '^/tmp 755$'
    check_match "new dir gets mode=" "$out" '^/var/new 700$'
    check_match "copied up" "$out" '^1$'
    check_match "ro tmpfs" "$out" ' /tmp tmpfs ro,'
    check_match "ro tmpfs write" "$out" 'Read-only file system'
}

scenario volume_bind
t_volume_bind() {
    d=$(scratch vol)
    echo from-host >"$d/in"
    out=$(prun -v "$d:/data" "$IMAGE" sh -c 'cat /data/in; echo from-container >/data/out')
    check_eq "host file inside" "$out" from-host
    check_eq "container file outside" "$(cat "$d/out")" from-container
    out=$(prun -v "$d:/data:ro" "$IMAGE" sh -c 'cat /data/in; echo x >/data/new && echo wrote; grep " /data " /proc/mounts')
    check_match "read-only bind readable" "$out" '^from-host$'
    check_match "read-only bind write" "$out" 'Read-only file system'
    check_match "mounted ro" "$out" ' /data [^ ]+ ro[, ]'
    [ ! -e "$d/new" ] || fail "file written through a :ro bind"
    # A named volume, shared by two containers.
    vol=opts-vol-$RT
    pm volume create "$vol" >/dev/null
    on_exit "pm volume rm -f $vol >/dev/null"
    prun -v "$vol:/v" "$IMAGE" sh -c 'echo persisted >/v/f' >/dev/null
    out=$(prun -v "$vol:/v" "$IMAGE" cat /v/f)
    check_eq "named volume" "$out" persisted
}

scenario mount_flag
t_mount_flag() {
    d=$(scratch mnt)
    echo hi >"$d/f"
    out=$(prun --mount type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700 \
        --mount type=bind,source="$d",destination=/b,ro=true "$IMAGE" sh -c '
        grep -E " /(t|b) " /proc/mounts; stat -c %a /t; cat /b/f; echo y >/b/g && echo wrote; true')
    check_match "tmpfs" "$out" '^tmpfs /t tmpfs rw,.*size=1024k'
    check_match "tmpfs mode" "$out" '^700$'
    check_match "bind ro" "$out" ' /b [^ ]+ ro[, ]'
    check_match "bind content" "$out" '^hi$'
    check_match "bind write" "$out" 'Read-only file system'
    out=$(prun --mount type=bind,source="$d",destination=/b "$IMAGE" sh -c 'echo y >/b/g && echo wrote')
    check_eq "rw bind" "$out" wrote
    check_eq "rw bind outside" "$(cat "$d/g")" y
}

scenario init_catatonit
t_init_catatonit() {
    out=$(prun --init "$IMAGE" sh -c 'echo self=$$ ppid=$PPID; tr "\0" " " </proc/1/cmdline; echo')
    check_match "command is pid 1's child" "$out" '^self=[0-9]+ ppid=1$'
    if grep -q '^self=1 ' <<<"$out"; then fail "the command is pid 1"; fi
    check_match "pid 1 is podman's init (catatonit)" "$out" '^/run/podman-init -- sh -c '
    out=$(prun --init "$IMAGE" sh -c 'grep -c catatonit /proc/1/exe')
    check_match "pid 1's binary" "$out" '^[1-9]'
    # Without --init the command is pid 1.
    out=$(prun "$IMAGE" sh -c 'echo self=$$')
    check_eq "default pid" "$out" self=1
}

scenario pid_host
t_pid_host() {
    out=$(prun --pid host "$IMAGE" sh -c "test -d /proc/$$ && echo sees-host; echo self=\$\$")
    check_match "host pid visible" "$out" '^sees-host$'
    if grep -q '^self=1$' <<<"$out"; then fail "pid 1 in the host pid namespace"; fi
    out=$(prun "$IMAGE" sh -c "test -d /proc/$$ && echo sees-host; ls -d /proc/[0-9]* | wc -l")
    if grep -q sees-host <<<"$out"; then fail "private pid ns sees host pid $$"; fi
}

scenario ipc_mode
t_ipc_mode() {
    host=$(readlink /proc/self/ns/ipc)
    out=$(prun --ipc host "$IMAGE" readlink /proc/self/ns/ipc)
    check_eq "--ipc host" "$out" "$host"
    out=$(prun --ipc private "$IMAGE" readlink /proc/self/ns/ipc)
    check_match "--ipc private" "$out" '^ipc:\['
    [ "$out" != "$host" ] || fail "--ipc private shares the host's ipc namespace"
    out=$(prun --ipc private "$IMAGE" sh -c 'grep " /dev/mqueue " /proc/mounts')
    check_match "private: own mqueue" "$out" '^mqueue /dev/mqueue mqueue '
}

scenario uts_hostname
t_uts_hostname() {
    out=$(prun --uts host "$IMAGE" hostname)
    check_eq "--uts host" "$out" "$(hostname)"
    out=$(prun --hostname brig-test-host "$IMAGE" sh -c 'hostname; cat /etc/hostname')
    check_eq "--hostname" "$out" "brig-test-host
brig-test-host"
}

scenario cgroupns
t_cgroupns() {
    out=$(prun --cgroupns private "$IMAGE" cat /proc/self/cgroup)
    check_match "private: entries" "$out" '^[0-9]+:'
    if grep -v ':/$' <<<"$out" | grep -q .; then fail "private cgroupns shows paths: $out"; fi
    out=$(prun --cgroupns host "$IMAGE" cat /proc/self/cgroup)
    if cg_v2; then
        check_match "host: our cgroup parent" "$out" "^0::/$CGROUP_PARENT/"
    else
        check_match "host: our cgroup parent" "$out" "^[0-9]+:[^:]*memory[^:]*:/$CGROUP_PARENT/"
    fi
    mine=$(readlink /proc/self/ns/cgroup)
    out=$(prun --cgroupns host "$IMAGE" readlink /proc/self/ns/cgroup)
    check_eq "host cgroup ns" "$out" "$mine"
}

scenario userns_map
t_userns_map() {
    d=$(scratch userns)
    chmod 777 "$d"
    out=$(prun --uidmap 0:100000:65536 --gidmap 0:100000:65536 -v "$d:/data" "$IMAGE" sh -c '
        cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%u:%g" /bin/busybox /etc/passwd
        touch /data/f; chown 12:34 /data/f; echo done')
    check_match "uid_map" "$out" '^ +0 +100000 +65536$'
    [ "$(grep -cE '^ +0 +100000 +65536$' <<<"$out")" = 2 ] || fail "gid_map: $out"
    check_match "root inside" "$out" '^0$'
    check_match "image owned by root inside" "$out" '^0:0$'
    if grep -q 65534:65534 <<<"$out"; then fail "image files unmapped: $out"; fi
    check_eq "file owner on the host" "$(stat -c %u:%g "$d/f")" 100012:100034
}

scenario network_none
t_network_none() {
    out=$(prun --network none "$IMAGE" sh -c 'ls /sys/class/net; awk -F: "NR > 2 {print \$1}" /proc/net/dev')
    check_eq "only lo" "$(tr -d ' ' <<<"$out" | sort -u)" lo
}

scenario network_host
t_network_host() {
    host=$(ls /sys/class/net | sort | tr '\n' ' ')
    out=$(prun --network host "$IMAGE" sh -c 'ls /sys/class/net | sort | tr "\n" " "; echo; readlink /proc/self/ns/net')
    check_eq "interfaces" "$(sed -n 1p <<<"$out")" "$host"
    check_eq "net ns" "$(sed -n 2p <<<"$out")" "$(readlink /proc/self/ns/net)"
}

scenario network_slirp_port
t_network_slirp_port() {
    port=$((20000 + RANDOM % 20000))
    name=opts-http-$RT
    on_exit "pm rm -f -t 0 $name >/dev/null 2>&1"
    pmr run -d --name "$name" $CG --network slirp4netns -p "127.0.0.1:$port:80" "$IMAGE" \
        sh -c 'mkdir /www && echo "hello from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
    fetch() { timeout 5 busybox wget -q -O - "http://127.0.0.1:$port/index.html"; }
    wait_for "http on port $port" 30 fetch
    out=$(fetch)
    check_match "fetched through slirp4netns" "$out" '^hello from '
    out=$(pm exec "$name" sh -c 'ls /sys/class/net | sort | tr "\n" " "')
    check_match "tap0 inside" "$out" 'tap0'
}

scenario preserve_fds_options
t_preserve_fds_options() {
    d=$(scratch fds)
    echo passed-fd-content >"$d/f"
    out=$(pmr run --rm $CG --preserve-fds 1 "$IMAGE" sh -c 'cat <&3; ls /proc/self/fd | sort -n | tr "\n" " "' 3<"$d/f" 2>&1)
    check_match "fd 3 content" "$out" '^passed-fd-content$'
    # Without --preserve-fds, fd 3 of podman is not the container's.
    out=$(pmr run --rm $CG "$IMAGE" sh -c 'cat <&3 && echo read-fd3; true' 3<"$d/f" 2>&1)
    if grep -q passed-fd-content <<<"$out"; then fail "fd 3 leaked without --preserve-fds"; fi
}

scenario env_workdir_entrypoint
t_env_workdir_entrypoint() {
    d=$(scratch env)
    printf 'FROM_FILE=file value\n# a comment\nOVERRIDE=from-file\n' >"$d/env"
    out=$(prun --env A=1 --env-file "$d/env" --env OVERRIDE=from-flag --workdir /tmp \
        --entrypoint '["/bin/sh","-c"]' "$IMAGE" 'echo "A=$A"; echo "F=$FROM_FILE"; echo "O=$OVERRIDE"; pwd')
    check_match "--env" "$out" '^A=1$'
    check_match "--env-file" "$out" '^F=file value$'
    check_match "--env after --env-file wins" "$out" '^O=from-flag$'
    check_match "--workdir" "$out" '^/tmp$'
    out=$(prun --entrypoint /bin/echo "$IMAGE" one two)
    check_eq "--entrypoint + cmd" "$out" "one two"
}

scenario shm_size
t_shm_size() {
    out=$(prun --shm-size 7m "$IMAGE" sh -c 'df -k /dev/shm | tail -1; grep " /dev/shm " /proc/mounts')
    check_match "df /dev/shm" "$out" '^shm +7168 '
    check_match "mount" "$out" 'size=7168k'
}

scenario cpuset
t_cpuset() {
    out=$(prun --cpuset-cpus 0 "$IMAGE" sh -c 'grep ^Cpus_allowed_list: /proc/self/status; cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus')
    check_match "affinity" "$out" '^Cpus_allowed_list:[[:space:]]+0$'
    check_match "cgroup cpuset.cpus" "$out" '^0$'
}

scenario masked_paths
t_masked_paths() {
    # podman masks files with /dev/null (/proc/keys), directories with a read-only tmpfs
    # (/proc/acpi, /sys/firmware), and mounts /proc/sys read-only.
    out=$(prun "$IMAGE" sh -c '
        wc -c </proc/keys
        echo $(ls -A /proc/acpi | wc -l) $(ls -A /sys/firmware | wc -l)
        grep -cE " /proc/(keys|acpi) | /sys/firmware " /proc/mounts
        echo 1 >/proc/sys/kernel/ns_last_pid || echo sys-ro
        grep " /proc/sys " /proc/mounts')
    check_eq "/proc/keys empty" "$(sed -n 1p <<<"$out")" 0
    check_eq "masked dirs empty" "$(sed -n 2p <<<"$out")" "0 0"
    check_eq "mask mounts" "$(sed -n 3p <<<"$out")" 3
    check_match "/proc/sys write" "$out" 'Read-only file system'
    check_match "/proc/sys write fails" "$out" 'sys-ro'
    check_match "/proc/sys ro mount" "$out" ' /proc/sys proc ro[, ]'
    out=$(prun --security-opt unmask=ALL "$IMAGE" sh -c '
        grep -cE " /proc/(keys|acpi|sys) | /sys/firmware " /proc/mounts
        ls /sys/firmware | wc -l; true')
    check_eq "unmask=ALL: no masks" "$(sed -n 1p <<<"$out")" 0
    [ "$(sed -n 2p <<<"$out")" -gt 0 ] || fail "/sys/firmware still empty with unmask=ALL"
    out=$(prun --security-opt unmask=/proc/keys "$IMAGE" sh -c '
        grep -c " /proc/keys " /proc/mounts; grep -cE " /proc/(acpi|sys) " /proc/mounts; true')
    check_eq "unmask=/proc/keys" "$out" "0
2"
}

scenario add_host
t_add_host() {
    out=$(prun --hostname hosty --add-host myhost:10.1.2.3 --add-host other.example:10.9.8.7 "$IMAGE" cat /etc/hosts)
    check_match "myhost" "$out" '^10\.1\.2\.3[[:space:]]+myhost$'
    check_match "other" "$out" '^10\.9\.8\.7[[:space:]]+other\.example$'
    check_match "own hostname" "$out" '[[:space:]]hosty([[:space:]]|$)'
}

scenario pids_memory_limits
t_pids_memory_limits() {
    out=$(prun --pids-limit 33 --memory 64m "$IMAGE" sh -c '
        cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null ||
        cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max')
    check_eq "pids.max / memory limit" "$out" "33
67108864"
}

scenario device_access
t_device_access() {
    # --device with :r: the node is readable, writing it is refused by the device cgroup
    # (loop-control: not in the default allow list).
    out=$(prun --device /dev/loop-control:/dev/rlc:r "$IMAGE" sh -c ': </dev/rlc && echo read-ok; echo x >/dev/rlc && echo write-ok; true')
    check_match "read" "$out" '^read-ok$'
    check_match "write denied" "$out" 'Operation not permitted'
    if grep -q '^write-ok$' <<<"$out"; then fail "wrote a :r device"; fi
    # --device-cgroup-rule lets a node made inside be opened.
    out=$(prun --cap-add MKNOD --device-cgroup-rule 'c 10:237 r' "$IMAGE" sh -c 'mknod /tmp/lc c 10 237 && : </tmp/lc && echo opened; true')
    check_match "rule allows open" "$out" '^opened$'
    if grep -q 'Operation not permitted' <<<"$out"; then fail "rule not applied: $out"; fi
}

scenario cap_all
t_cap_all() {
    out=$(prun --cap-drop ALL "$IMAGE" sh -c 'grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status; touch /tmp/f; chown 1 /tmp/f && echo chowned; true')
    check_match "CapEff empty" "$out" '^CapEff:[[:space:]]+0+$'
    check_match "CapBnd empty" "$out" '^CapBnd:[[:space:]]+0+$'
    check_match "chown" "$out" 'Operation not permitted'
    out=$(prun --cap-drop ALL --cap-add CHOWN --cap-add KILL "$IMAGE" grep -E '^Cap(Eff|Bnd):' /proc/self/status)
    check_match "only CHOWN+KILL" "$out" '^CapEff:[[:space:]]+0+21$'
    check_match "bounding CHOWN+KILL" "$out" '^CapBnd:[[:space:]]+0+21$'
    host_bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    out=$(prun --cap-add ALL "$IMAGE" grep '^CapEff:' /proc/self/status)
    check_match "--cap-add ALL" "$out" "^CapEff:[[:space:]]+$host_bnd\$"
}

scenario ns_join
t_ns_join() {
    name=opts-ns-$RT
    on_exit "pm rm -f -t 0 $name >/dev/null 2>&1"
    pmr run -d --name "$name" $CG --hostname shared-host --network none "$IMAGE" sh -c 'echo marker >/dev/shm/m; exec sleep 600' >/dev/null
    wait_for "$name running" 30 pm exec "$name" true
    # Another container in its pid, ipc, net and uts namespaces (setns by path in the runtime).
    out=$(prun --pid "container:$name" --ipc "container:$name" --network "container:$name" --uts "container:$name" "$IMAGE" sh -c '
        ps -o comm | grep -c "^sleep$"; cat /dev/shm/m; hostname; echo pid=$$')
    check_match "sees the first container's sleep" "$out" '^1$'
    check_match "shares /dev/shm (ipc)" "$out" '^marker$'
    check_match "shares uts" "$out" '^shared-host$'
    if grep -q '^pid=1$' <<<"$out"; then fail "joined pid namespace but is pid 1"; fi
    inside=$(pm exec "$name" sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid')
    out=$(prun --pid "container:$name" --network "container:$name" "$IMAGE" sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid')
    check_eq "same net and pid namespaces" "$out" "$inside"
}

scenario cgroup_resources
t_cgroup_resources() {
    opts="--cpus 0.5 --cpu-shares 512 --memory 64m --memory-swap 96m --memory-reservation 32m"
    if cg_v2; then
        # podman's default on cgroup2 is a private cgroup namespace: /sys/fs/cgroup is ours.
        out=$(prun $opts "$IMAGE" sh -c 'cd /sys/fs/cgroup; cat cpu.max cpu.weight memory.max memory.low memory.swap.max' | tr '\n' ' ')
        check_eq "cpu.max, weight, memory max/low/swap" "$out" "50000 100000 $(cg_weight 512) 67108864 33554432 33554432 "
        return
    fi
    out=$(prun $opts "$IMAGE" sh -c '
        cd /sys/fs/cgroup
        cat cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes
        cat memory/memory.memsw.limit_in_bytes 2>/dev/null || echo no-memsw' | tr '\n' ' ')
    check_match "cpu quota/period/shares, memory limit/reservation" "$out" '^50000 100000 512 67108864 33554432 '
    check_match "memsw" "$out" ' (100663296|no-memsw) $'
}

scenario update_via_runtime
t_update_via_runtime() {
    name=opts-upd-$RT
    on_exit "pm rm -f -t 0 $name >/dev/null 2>&1"
    pmr run -d --name "$name" $CG --memory 64m --cpu-shares 512 --cpus 0.5 "$IMAGE" sleep 600 >/dev/null
    wait_for "$name running" 30 pm exec "$name" true
    if cg_v2; then
        cg='cd /sys/fs/cgroup; cat memory.max cpu.weight cpu.max'
        before="67108864 $(cg_weight 512) 50000 100000 " after="134217728 $(cg_weight 256) 150000 100000 "
    else
        cg='cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_quota_us'
        before="67108864 512 50000 " after="134217728 256 150000 "
    fi
    out=$(pm exec "$name" sh -c "$cg" | tr '\n' ' ')
    check_eq "before" "$out" "$before"
    # podman update -> `RUNTIME update --resources=FILE ID` (podman remembers the runtime).
    pm update --memory 128m --cpu-shares 256 --cpus 1.5 "$name" >/dev/null
    out=$(pm exec "$name" sh -c "$cg" | tr '\n' ' ')
    check_eq "after podman update" "$out" "$after"
}

scenario umask
t_umask() {
    out=$(prun --umask 0027 "$IMAGE" sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f')
    check_eq "umask" "$out" "0027
640"
}

scenario default_security
t_default_security() {
    # Debian podman 4.3's default capability set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
    # SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP) in the
    # permitted, effective and bounding sets, none inheritable or ambient, the default
    # seccomp filter, no NoNewPrivs, and podman's rlimits from containers.conf.
    out=$(prun "$IMAGE" sh -c 'grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; ulimit -Sn; ulimit -Hn; ulimit -Su; cat /proc/self/oom_score_adj; umask; id')
    for k in CapPrm CapEff CapBnd; do
        check_match "$k" "$out" "^$k:[[:space:]]+00000000a80425fb\$"
    done
    check_match "CapInh" "$out" '^CapInh:[[:space:]]+0+$'
    check_match "CapAmb" "$out" '^CapAmb:[[:space:]]+0+$'
    check_match "NoNewPrivs" "$out" '^NoNewPrivs:[[:space:]]+0$'
    check_match "Seccomp" "$out" '^Seccomp:[[:space:]]+2$'
    check_eq "limits, oom, umask, id" "$(grep -v : <<<"$out" | tr '\n' ' ')" "1024 1024 4096 0 0022 uid=0(root) gid=0(root) "
}

scenario exec_options
t_exec_options() {
    name=opts-exec-$RT
    on_exit "pm rm -f -t 0 $name >/dev/null 2>&1"
    pmr run -d --name "$name" $CG --cap-drop CHOWN --env FROM_RUN=r "$IMAGE" sleep 600 >/dev/null
    wait_for "$name running" 30 pm exec "$name" true
    out=$(pm exec --user 1000:1001 --env E=1 --workdir /tmp "$name" sh -c 'id -u; id -g; echo "E=$E R=$FROM_RUN"; pwd; grep ^CapEff: /proc/self/status')
    check_eq "exec --user/--env/--workdir" "$(sed -n 1,4p <<<"$out" | tr '\n' ' ')" "1000 1001 E=1 R=r /tmp "
    check_match "non-root exec caps" "$out" '^CapEff:[[:space:]]+0+$'
    # exec inherits the container's capabilities (CHOWN dropped) unless --privileged.
    out=$(pm exec "$name" sh -c 'touch /tmp/f; chown 1 /tmp/f && echo chowned; grep ^CapBnd: /proc/self/status; true' 2>&1)
    if grep -q '^chowned$' <<<"$out"; then fail "exec could chown: $out"; fi
    check_match "exec keeps the container's cap set" "$out" 'Operation not permitted'
    out=$(pm exec --privileged "$name" sh -c 'chown 1 /tmp/f && echo chowned')
    check_eq "exec --privileged" "$out" chowned
    # exec --preserve-fds hands an fd over too.
    echo exec-fd-content >"$WORK/tmp/exec-fd-$RT"
    out=$(pm exec --preserve-fds 1 "$name" sh -c 'cat <&3' 3<"$WORK/tmp/exec-fd-$RT")
    check_eq "exec --preserve-fds" "$out" exec-fd-content
}

scenario bind_options
t_bind_options() {
    d=$(scratch bindopts)
    printf '#!/bin/sh\necho ran\n' >"$d/script"
    chmod 755 "$d/script"
    out=$(prun -v "$d:/b:noexec,nosuid,nodev" -v "$d:/c" "$IMAGE" sh -c 'grep -E " /(b|c) " /proc/mounts; /b/script; /c/script')
    check_match "noexec,nosuid,nodev" "$out" ' /b [^ ]+ rw,nosuid,nodev,noexec'
    check_match "noexec refused" "$out" 'Permission denied'
    check_match "plain bind runs it" "$out" '^ran$'
    # rshared: a mount made inside the container's bind appears on the host side.
    mkdir -p "$d/sub"
    on_exit "umount -l '$d/sub' 2>/dev/null"
    out=$(prun --privileged --mount "type=bind,source=$d,destination=/s,bind-propagation=rshared" "$IMAGE" sh -c 'grep " /s " /proc/self/mountinfo | grep -o "shared:[0-9]*" | head -1; mount -t tmpfs -o size=1m tmpfs /s/sub && echo mounted')
    check_match "shared propagation" "$out" '^shared:[0-9]+$'
    check_match "mounted inside" "$out" '^mounted$'
    grep " $d/sub " /proc/self/mountinfo || echo "(not propagated to the host: $d is not a shared mount here)"
}
