# containerd scenarios: privileges, read-only rootfs, capabilities, seccomp, namespaces (sourced
# by containerd.sh; see lib.sh for the helpers).

# capbit STATUS-LINE BIT: 1 when the hex mask of "CapEff:\t..." has BIT set.
capbit() { echo $(((0x$(awk '{print $2}' <<<"$1") >> $2) & 1)); }

scenario privileged
t_privileged() {
    local id=$RT-priv
    ids "$id"
    out=$(cr "$id" --rm --privileged -- sh -c 'grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status; ls /dev; grep " /sys " /proc/self/mounts')
    echo "$out"
    # every capability the host's bounding set has (CAP_SYS_RESOURCE is not in it here)
    check_eq "CapEff" "$(grep CapEff <<<"$out" | awk '{print $2}')" "$(awk '/^CapBnd/ {print $2}' /proc/self/status)"
    check_match "no seccomp" "$out" '^Seccomp:[[:space:]]+0$'
    check_match "host devices" "$out" '^(vda|sda|loop0|null)$'
    check_match "/sys read-write" "$out" ' /sys sysfs rw'
    out=$(cr "$id" --rm -- sh -c 'ls /dev')
    check_eq "no host disks without --privileged" "$(grep -cE '^(vda|sda)$' <<<"$out" || true)" 0
}

scenario read_only
t_read_only() {
    local id=$RT-ro
    ids "$id"
    out=$(cr "$id" --rm --read-only -- sh -c 'touch /newfile 2>&1; echo written >/tmp/x 2>&1; grep " / " /proc/self/mounts')
    echo "$out"
    check_match "rootfs refuses writes" "$out" 'Read-only file system'
    check_match "/ mounted ro" "$out" ' / [a-z]+ ro[,$ ]'
    out=$(cr "$id" --rm -- sh -c 'touch /newfile && echo rw-ok')
    check_eq "writable without --read-only" "$out" rw-ok
}

scenario caps
t_caps() {
    local id=$RT-caps
    ids "$id"
    out=$(cr "$id" --rm -- grep CapEff /proc/self/status)
    check_eq "default: no CAP_SYS_ADMIN" "$(capbit "$out" 21)" 0
    check_eq "default: CAP_CHOWN" "$(capbit "$out" 0)" 1
    out=$(cr "$id" --rm --cap-add CAP_SYS_ADMIN --cap-drop CAP_CHOWN -- \
        sh -c 'grep CapEff /proc/self/status; mount -t tmpfs none /tmp && echo mounted; chown 65534 /tmp 2>&1 || true')
    echo "$out"
    check_eq "--cap-add CAP_SYS_ADMIN" "$(capbit "$(grep CapEff <<<"$out")" 21)" 1
    check_eq "--cap-drop CAP_CHOWN" "$(capbit "$(grep CapEff <<<"$out")" 0)" 0
    check_match "mount works with CAP_SYS_ADMIN" "$out" '^mounted$'
    check_match "chown refused without CAP_CHOWN" "$out" 'Operation not permitted'
}

scenario seccomp
t_seccomp() {
    local id=$RT-seccomp
    ids "$id"
    # unshare(CLONE_NEWUSER) needs no capability, but the default profile does not allow it
    # without CAP_SYS_ADMIN.
    out=$(cr "$id" --rm -- sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1 && echo unshare-ok')
    echo "$out"
    check_match "no filter by default" "$out" '^Seccomp:[[:space:]]+0$'
    check_match "unshare -U allowed" "$out" '^unshare-ok$'
    out=$(cr "$id" --rm --seccomp -- sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1 && echo unshare-ok; echo still-alive')
    echo "$out"
    check_match "filter mode" "$out" '^Seccomp:[[:space:]]+2$'
    check_match "unshare -U blocked" "$out" 'Operation not permitted'
    check_eq "not run" "$(grep -c '^unshare-ok$' <<<"$out" || true)" 0
    check_match "ordinary syscalls work" "$out" '^still-alive$'
}

scenario no_new_privs
t_no_new_privs() {
    local id=$RT-nnp
    ids "$id"
    check_match "default NoNewPrivs" "$(cr "$id" --rm -- grep NoNewPrivs /proc/self/status)" '1$'
    check_match "--allow-new-privs" "$(cr "$id" --rm --allow-new-privs -- grep NoNewPrivs /proc/self/status)" '0$'
}

scenario net_host
t_net_host() {
    local id=$RT-net
    ids "$id"
    check_eq "--net-host: the host's network namespace" \
        "$(cr "$id" --rm --net-host -- readlink /proc/self/ns/net)" "$(readlink /proc/self/ns/net)"
    own=$(cr "$id" --rm -- sh -c 'readlink /proc/self/ns/net; ls /sys/class/net')
    [ "$(head -1 <<<"$own")" != "$(readlink /proc/self/ns/net)" ] || fail "no own network namespace by default"
    check_eq "only lo inside" "$(tail -n +2 <<<"$own")" lo
}

# --seccomp-profile: an OCI seccomp profile of our own (errnoRet, an argument condition).
scenario seccomp_profile
t_seccomp_profile() {
    local id=$RT-scprof
    ids "$id"
    cat >"$WORK/seccomp-$RT.json" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}]}
  ]
}
JSON
    out=$(cr "$id" --rm --seccomp --seccomp-profile "$WORK/seccomp-$RT.json" -- sh -c \
        'mkdir /tmp/d 2>&1; kill -USR2 $$ 2>&1; kill -0 $$ && echo kill0-ok; trap "echo got-usr1" USR1; kill -USR1 $$; echo end')
    echo "$out"
    check_match "mkdir: errnoRet 1 (EPERM)" "$out" "mkdir.*Operation not permitted"
    check_match "kill SIGUSR2: errnoRet 13 (EACCES)" "$out" "kill.*Permission denied"
    check_match "kill with another signal allowed" "$out" '^kill0-ok$'
    check_match "SIGUSR1 delivered" "$out" '^got-usr1$'
    check_match "ran to the end" "$out" '^end$'
}

scenario device
t_device() {
    local id=$RT-dev
    ids "$id"
    out=$(cr "$id" --rm --device /dev/net/tun -- sh -c 'ls -l /dev/net/tun; cat /dev/net/tun 2>&1; true')
    echo "$out"
    check_match "device node" "$out" '^crw.* 10, +200 .*/dev/net/tun$'
    # open allowed by the device cgroup; the read fails in the driver (no interface attached)
    check_match "opened" "$out" 'File descriptor in bad state'
    # (runc 1.1 also allows /dev/net/tun by default, runc 1.2 and brig do not: a device no
    # list allows tells the device cgroup at work) mknod is allowed, opening is not.
    out=$(cr "$id" --rm -- sh -c 'mknod /tmp/kmsg c 1 11 && echo made; cat /tmp/kmsg 2>&1; true')
    echo "$out"
    check_match "mknod allowed (c *:* m)" "$out" '^made$'
    check_match "open of a device not allowed" "$out" 'Operation not permitted'
}

# --rootfs-propagation with containerd's rootfs, an overlay mount point of its own: pivot_root
# needs it private (runc 1.1 leaves the new / private; brig then applies the propagation to it).
scenario rootfs_propagation
t_rootfs_propagation() {
    local id=$RT-prop p
    ids "$id"
    for p in shared rshared slave private; do
        out=$(cr "$id" --rm --rootfs-propagation $p -- sh -c 'grep " / / " /proc/self/mountinfo') && rc=0 || rc=$?
        echo "$out"
        check_eq "$p: exit code" "$rc" 0
        check_match "$p: / is the overlay snapshot" "$out" ' / / .* - overlay overlay '
    done
}
