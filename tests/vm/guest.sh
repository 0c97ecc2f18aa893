#!/bin/bash
# tests/vm/guest.sh — PID 1 of the test VM after switch_root (run by tests/vm/init, under the host's bash).
# Finishes the system mounts, builds the cgroup layout named in the control file, runs the test command in
# $BRIG_VM_CGROUP with its output on a virtio-serial port (streamed by run.sh), writes its exit status and the
# timings to the share, and powers off. Setup failures exit 125 through the same path.
read -r T_STAGE2 _ < /proc/uptime
S=/run/brig-vm/share/.brig-vm
BB=/run/brig-vm/bin/busybox
# Setup uses the static busybox copied to tmpfs by init: under TCG each exec of a dynamic host binary costs
# ~0.1-0.3 s (ld.so work, cold 9p reads), a static one ~0.04 s. The test command gets the host's tools.
for a in mount umount mkdir ln hostname ip cat awk sync uname; do eval "$a() { \$BB $a \"\$@\"; }"; done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/brig-vm/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 SHELL=/bin/bash

# The output channel: the virtio-serial port named brig-vm.out, which run.sh follows. Not the virtio console
# (hvc0): hvc sends 16 bytes per virtqueue kick, ~50 KB/s under TCG. A blocking write to a port returns once
# qemu has the data, so nothing is lost at poweroff.
OUT_DEV=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = brig-vm.out ] && OUT_DEV=/dev/${p##*/}
done
if [ -n "$OUT_DEV" ]; then exec >"$OUT_DEV" 2>&1; else echo "brig-vm guest: no brig-vm.out port"; fi

poweroff_with() { # RC
  echo "$1" > "$S/rc"
  cd /; sync; umount "$BRIG_VM_OUT" 2>/dev/null; umount /run/brig-vm/share 2>/dev/null
  $BB poweroff -f
  exit "$1"   # PID 1 exiting panics the kernel, and qemu -no-reboot exits: run.sh still gets no rc => 125
}
fail() { echo "brig-vm guest: $*"; poweroff_with 125; }

# shellcheck source=/dev/null
. "$S/control" || fail "cannot read $S/control"
case :$PATH: in *:/run/brig-vm/bin:*) ;; *) PATH=$PATH:/run/brig-vm/bin ;; esac
L=$BRIG_VM_LAYOUT
export BRIG_VM_LAYOUT BRIG_VM_REPO BRIG_VM_OUT BRIG_VM_CGROUP BRIG_VM_V1_COMOUNT BRIG_VM_V1_CONTROLLERS

# ---------------------------------------------------------------- system mounts (what systemd would make)
# /tmp without nodev, as on most hosts (/tmp on the root fs): test bundles live there and
# hold device nodes.
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
mount -t securityfs -o nosuid,nodev,noexec securityfs /sys/kernel/security 2>/dev/null
ln -sfn /proc/self/fd /dev/fd; ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout; ln -sfn /proc/self/fd/2 /dev/stderr
mount --make-rshared /
K=$(uname -r)   # the guest kernel's modules, from the run.sh cache seen through the host root
mkdir -p "/lib/modules/$K" && mount --bind "$BRIG_VM_MODULES" "/lib/modules/$K" || fail "bind $BRIG_VM_MODULES"
echo /run/brig-vm/bin/modprobe > /proc/sys/kernel/modprobe   # the host root may have no kmod
hostname "brig-vm-$L"
ip link set lo up
mkdir -p "$BRIG_VM_OUT" && mount --bind /run/brig-vm/share "$BRIG_VM_OUT" || fail "bind the share on $BRIG_VM_OUT"

# ---------------------------------------------------------------- cgroup layouts
CG=/sys/fs/cgroup
MOPT=nosuid,nodev,noexec

setup_v2() { # cgroup2 alone, as systemd's unified mode: nsdelegate, every controller enabled at the root
  mount -t cgroup2 -o $MOPT,nsdelegate,memory_recursiveprot cgroup2 $CG || fail "mount cgroup2 on $CG"
  local c
  for c in $(cat $CG/cgroup.controllers); do
    echo "+$c" > $CG/cgroup.subtree_control || fail "enable $c in $CG/cgroup.subtree_control"
  done
}

setup_v1() { # HYBRID(0|1): a tmpfs of v1 hierarchies (+ name=systemd), plus cgroup2 on unified/ in hybrid
  local avail want=() c g m ok done=" "
  avail=" $(awk '!/^#/ && $4 == 1 {print $1}' /proc/cgroups | tr '\n' ' ')"
  for c in ${BRIG_VM_V1_CONTROLLERS:-$avail}; do
    case $avail in *" $c "*) want+=("$c") ;; *) fail "v1 controller $c not enabled in this kernel" ;; esac
  done
  mount -t tmpfs -o $MOPT,mode=755 tmpfs $CG || fail "mount tmpfs on $CG"
  for g in $BRIG_VM_V1_COMOUNT; do           # co-mounted groups, e.g. cpu,cpuacct + per-controller symlinks
    ok=1
    for m in ${g//,/ }; do case " ${want[*]} " in *" $m "*) ;; *) ok=0 ;; esac; done
    [ $ok = 1 ] || continue
    mkdir $CG/"$g" && mount -t cgroup -o $MOPT,"$g" cgroup $CG/"$g" || fail "mount cgroup v1 $g"
    for m in ${g//,/ }; do ln -s "$g" $CG/"$m"; done
    done="$done${g//,/ } "
  done
  for c in "${want[@]}"; do
    case $done in *" $c "*) continue ;; esac
    mkdir $CG/"$c" && mount -t cgroup -o $MOPT,"$c" cgroup $CG/"$c" || fail "mount cgroup v1 $c"
  done
  mkdir $CG/systemd && mount -t cgroup -o $MOPT,none,name=systemd cgroup $CG/systemd || fail "mount name=systemd"
  if [ "$1" = 1 ]; then
    mkdir $CG/unified && mount -t cgroup2 -o $MOPT,nsdelegate cgroup2 $CG/unified || fail "mount cgroup2 on unified"
  fi
  mount -o remount,ro $CG   # as systemd leaves it
}

case $L in
  v2) setup_v2 ;;
  v1) setup_v1 0 ;;
  hybrid) setup_v1 1 ;;
  *) fail "unknown layout $L" ;;
esac

# The test's cgroup, in every hierarchy (v1 cpuset needs cpus/mems copied down before a task may join).
CGDIRS=()
if [ -n "$BRIG_VM_CGROUP" ]; then
  while read -r mnt fstype; do
    [ "$fstype" = cgroup ] || [ "$fstype" = cgroup2 ] || continue
    d=$mnt
    for part in ${BRIG_VM_CGROUP//\// }; do
      d=$d/$part; mkdir -p "$d" || fail "mkdir $d"
      if [ -f "$d/cpuset.cpus" ] && [ "$fstype" = cgroup ]; then
        cat "${d%/*}/cpuset.cpus" > "$d/cpuset.cpus"; cat "${d%/*}/cpuset.mems" > "$d/cpuset.mems"
      fi
    done
    CGDIRS+=("$d")
  done < <(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $5, $(i + 1); break } }' /proc/self/mountinfo)
fi

# ---------------------------------------------------------------- the test command
read -r up _ < /proc/uptime
echo "brig-vm guest: layout $L, kernel $(uname -r), test cgroup ${BRIG_VM_CGROUP:-/}, up ${up}s; running: ${BRIG_VM_CMD[*]}"
(
  for d in "${CGDIRS[@]}"; do echo 0 > "$d/cgroup.procs" || { echo "brig-vm guest: cannot join $d"; exit 125; }; done
  cd "$BRIG_VM_REPO" || exit 125
  exec "${BRIG_VM_CMD[@]}"
) </dev/null
rc=$?
read -r end _ < /proc/uptime
echo "$T_STAGE2 $up $end" > "$S/times"
poweroff_with "$rc"
