#!/bin/bash
# tests/vm/run.sh — boot Debian's stock kernel under qemu once per cgroup layout and run brig's tests inside.
#
# usage: tests/vm/run.sh [-h] LAYOUT... [-- COMMAND [ARG...]]
#   LAYOUT   v2 | v1 | hybrid | all (= v2 v1 hybrid); several may be given, each gets its own boot.
#   COMMAND  what to run inside, with cwd = the repo (same absolute path as on the host).
#            Default: $BRIG_VM_TEST_CMD (a bash -c string) if set, else tests/vm/inside.sh.
#
# The guest's root is the host's root, shared read-only over virtio-9p under a tmpfs overlay: every host
# path (this repo, target/, /usr/sbin/runc, /usr/bin/crun, ~/.cargo) works unchanged and writes land in guest
# RAM. Fresh tmpfs on /run /tmp /dev/shm; no systemd, no network but lo. The cgroup layout is built by
# tests/vm/guest.sh (PID 1) before COMMAND runs. The guest sees the kernel in its own /lib/modules.
#
# Output: COMMAND's stdout+stderr stream to this script's stdout, each line prefixed "[LAYOUT] " (through a
# virtio-serial port; still, put bulky logs in $BRIG_VM_OUT and print a summary). After each layout one line
# "== brig-vm LAYOUT: PASS|FAIL (rc N) boot Xs setup Ys tests Zs wall Ws", and for several layouts a summary
# table. boot = guest uptime when guest.sh starts (kernel + initramfs), setup = cgroup layout and mounts,
# tests = the test command, wall = the whole qemu run seen from the host (adds qemu/BIOS start and poweroff).
# Exit status: 0 if COMMAND exited 0 on every layout; else the first failing layout's COMMAND status,
# 124 on timeout, 125 when the VM or this harness failed (the kernel console tail is then printed).
#
# Inside, COMMAND sees: BRIG_VM_LAYOUT (v2|v1|hybrid), BRIG_VM_REPO (repo path), BRIG_VM_OUT (a directory
# shared read-write with the host at the same path, = $BRIG_VM_OUT/LAYOUT here; persists after the run),
# BRIG_VM_CGROUP, BRIG_VM_V1_COMOUNT, BRIG_VM_V1_CONTROLLERS, and the variables named in BRIG_VM_PASS_ENV.
#
# env:
#   BRIG_VM_TEST_CMD     default command (bash -c string); args after -- win
#   BRIG_VM_OUT          results root, default <repo>/target/vm; LAYOUT's logs in $BRIG_VM_OUT/LAYOUT
#                        (emptied at each run; holds output.log = the streamed output, console.log = kernel)
#   BRIG_VM_CACHE        kernel + initramfs cache, default $XDG_CACHE_HOME/brig-vm if XDG_CACHE_HOME is set,
#                        else /var/cache/brig-vm (never inside the repo)
#   BRIG_VM_KERNEL_PKG   Debian kernel package, default: the one linux-image-amd64 depends on
#   BRIG_VM_MEM          guest memory, MiB (default 3072)     BRIG_VM_SMP     guest CPUs (default 2)
#   BRIG_VM_TIMEOUT      seconds per layout (default 1800)    BRIG_VM_ACCEL   tcg (default) | kvm
#   BRIG_VM_BOOT_TIMEOUT seconds until the test command must have started (default 300)
#   BRIG_VM_CGROUP       cgroup COMMAND runs in, in every hierarchy (default /system.slice/brig-test.service,
#                        as a systemd service would be; empty = the root cgroup)
#   BRIG_VM_V1_COMOUNT   v1 hierarchies that hold several controllers, default "cpu,cpuacct net_cls,net_prio"
#                        (systemd's layout, with cpu/cpuacct/net_cls/net_prio symlinks); "" = one per controller
#   BRIG_VM_V1_CONTROLLERS  controllers to mount on v1/hybrid, default every enabled one in /proc/cgroups; in
#                        hybrid the others stay on cgroup2 (e.g. "cpu cpuacct cpuset memory devices freezer
#                        blkio pids" with BRIG_VM_V1_COMOUNT="" mimics a host that leaves hugetlb to v2)
#   BRIG_VM_PASS_ENV     names of host variables to export inside (default "PATH RUST_BACKTRACE RUST_LOG
#                        BRIG_VM_TEST_LIST BRIG_VM_TEST_BINS BRIG_VM_TEST_ARGS"; the guest has the host's files,
#                        so PATH fits; the BRIG_VM_TEST_* ones are read by tests/vm/inside.sh)
#   BRIG_VM_BIOS         firmware, default /usr/share/qemu/qboot.rom when present (else qemu's SeaBIOS)
#   BRIG_VM_APPEND       extra kernel command line     BRIG_VM_QEMU_EXTRA   extra qemu args (word-split)
#   BRIG_VM_VERBOSE=1    stream the kernel console to stderr too
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${BRIG_VM_CACHE:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/brig-vm}}
CACHE=${CACHE:-/var/cache/brig-vm}
OUTROOT=${BRIG_VM_OUT:-$REPO/target/vm}
MEM=${BRIG_VM_MEM:-3072}
SMP=${BRIG_VM_SMP:-2}
TIMEOUT=${BRIG_VM_TIMEOUT:-1800}
BOOT_TIMEOUT=${BRIG_VM_BOOT_TIMEOUT:-300}
ACCEL=${BRIG_VM_ACCEL:-tcg}
CGROUP=${BRIG_VM_CGROUP-/system.slice/brig-test.service}
V1_COMOUNT=${BRIG_VM_V1_COMOUNT-cpu,cpuacct net_cls,net_prio}
V1_CONTROLLERS=${BRIG_VM_V1_CONTROLLERS:-}
PASS_ENV=${BRIG_VM_PASS_ENV-PATH RUST_BACKTRACE RUST_LOG BRIG_VM_TEST_LIST BRIG_VM_TEST_BINS BRIG_VM_TEST_ARGS}

die() { echo "brig-vm: $*" >&2; exit 125; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# ---------------------------------------------------------------- arguments
LAYOUTS=()
CMD=()
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --) shift; CMD=("$@"); break ;;
    all) LAYOUTS+=(v2 v1 hybrid) ;;
    v2|v1|hybrid) LAYOUTS+=("$1") ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[ ${#LAYOUTS[@]} -gt 0 ] || { usage >&2; die "no layout given"; }
if [ ${#CMD[@]} -eq 0 ]; then
  if [ -n "${BRIG_VM_TEST_CMD:-}" ]; then CMD=(bash -c "$BRIG_VM_TEST_CMD"); else CMD=(tests/vm/inside.sh); fi
fi
[ "$(id -u)" = 0 ] || die "must run as root (9p passthrough of the host root, cgroups inside)"
# qboot (qemu-system-data) jumps straight to the kernel: ~2.5 s less than SeaBIOS under TCG
BIOS_ARGS=()
if [ -f "${BRIG_VM_BIOS:-/usr/share/qemu/qboot.rom}" ]; then BIOS_ARGS=(-bios "${BRIG_VM_BIOS:-/usr/share/qemu/qboot.rom}"); fi
# shellcheck disable=SC2054  # the commas are qemu's
case $ACCEL in
  tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  *) die "BRIG_VM_ACCEL must be tcg or kvm" ;;
esac

# ---------------------------------------------------------------- one-time setup (cached)
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; } ||
    die "apt-get install $* failed"
}

# The ELF vmlinux inside a bzImage: qemu boots it directly (PVH), skipping the decompressor, slow under TCG.
extract_vmlinux() { # VMLINUZ OUT
  local magic tool off
  for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool=${magic%%:*}
    for off in $(LC_ALL=C grep -aboP "${magic#*:}" "$1" | cut -d: -f1); do
      tail -c +$((off + 1)) "$1" | "$tool" -dc 2>/dev/null > "$2.tmp" || true
      if [ "$(head -c4 "$2.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then mv "$2.tmp" "$2"; return 0; fi
    done
  done
  rm -f "$2.tmp"; return 1
}

setup() {
  command -v qemu-system-x86_64 >/dev/null || apt_install qemu-system-x86
  # the initramfs needs a static busybox; the guest also uses it for modprobe and poweroff
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || apt_install busybox-static
  command -v xz >/dev/null || apt_install xz-utils
  mkdir -p "$CACHE"
  if [ ! -f "$CACHE/kernel/.done" ]; then
    local pkg=${BRIG_VM_KERNEL_PKG:-} kver
    if [ -z "$pkg" ]; then
      pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
      [ -n "$pkg" ] || { apt-get update >&2;
        pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
      [ -n "$pkg" ] || die "cannot resolve the package linux-image-amd64 depends on"
    fi
    echo "brig-vm: fetching $pkg into $CACHE (once)" >&2
    rm -rf "$CACHE/kernel" "$CACHE/dl"; mkdir -p "$CACHE/dl"
    chown _apt "$CACHE/dl" 2>/dev/null || true   # apt downloads as _apt when it can
    (cd "$CACHE/dl" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
    dpkg -x "$CACHE"/dl/*.deb "$CACHE/kernel"
    rm -rf "$CACHE/dl"
    kver=$(ls "$CACHE/kernel/lib/modules")
    busybox depmod -b "$CACHE/kernel" "$kver"
    extract_vmlinux "$CACHE/kernel/boot/vmlinuz-$kver" "$CACHE/kernel/vmlinux" ||
      cp "$CACHE/kernel/boot/vmlinuz-$kver" "$CACHE/kernel/vmlinux"   # bzImage boots too, only slower
    echo "$kver" > "$CACHE/kernel/.done"
  fi
  KVER=$(cat "$CACHE/kernel/.done")
  MODDIR=$CACHE/kernel/lib/modules/$KVER

  # initramfs: busybox, tests/vm/init and the modules needed to reach the 9p shares; rebuilt when any changes
  local stamp t m need=""
  local mods="virtio_pci virtio_console 9pnet_virtio 9p overlay"
  stamp=$( (cat "$HERE/init" /bin/busybox; echo "$KVER $mods") | md5sum | cut -c1-12)
  INITRD=$CACHE/initrd-$stamp.gz
  if [ ! -f "$INITRD" ]; then
    t=$(mktemp -d "$CACHE/initrd.XXXXXX")
    mkdir -p "$t"/{bin,dev,proc,sys,lib/modules/"$KVER"}
    cp /bin/busybox "$t/bin/busybox"; ln -s busybox "$t/bin/sh"
    cp "$HERE/init" "$t/init"; chmod 755 "$t/init"
    for m in $mods; do
      need="$need $(awk -v m="$m" '{n=$1; sub(/:$/,"",n); sub(/.*\//,"",n); sub(/\.ko.*$/,"",n);
                                   if (n==m) {sub(/:/,""); print}}' "$MODDIR/modules.dep")"
    done
    for m in $need; do mkdir -p "$t/lib/modules/$KVER/${m%/*}"; cp "$MODDIR/$m" "$t/lib/modules/$KVER/$m"; done
    busybox depmod -b "$t" "$KVER"
    (cd "$t" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    rm -rf "$t"
    find "$CACHE" -maxdepth 1 -name 'initrd-*.gz' ! -name "initrd-$stamp.gz" -delete
  fi
}

# ---------------------------------------------------------------- one boot
# If this script is killed outright (SIGKILL), pdeathsig takes timeout and qemu down with it.
REAPER=()
if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then REAPER=(setpriv --pdeathsig KILL); fi
QPID=
RUN=
cleanup() {
  if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true; QPID=; fi
  if [ -n "$RUN" ]; then rm -rf "$RUN"; RUN=; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

boot() { # LAYOUT; sets RC and the timing globals
  local layout=$1 out=$OUTROOT/$1 ctl append tailpid dogpid t0 t1 n v
  # the share is the result dir: empty it, but only if it is ours (or empty)
  if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -d "$out/.brig-vm" ]; then
    die "$out exists and was not made by brig-vm; not emptying it"
  fi
  rm -rf "$out"; mkdir -p "$out/.brig-vm"
  out=$(cd "$out" && pwd)
  ctl=$out/.brig-vm
  cp "$HERE/guest.sh" "$ctl/guest.sh"
  {
    printf 'BRIG_VM_LAYOUT=%q\nBRIG_VM_REPO=%q\nBRIG_VM_OUT=%q\nBRIG_VM_CGROUP=%q\n' "$layout" "$REPO" "$out" "$CGROUP"
    printf 'BRIG_VM_V1_COMOUNT=%q\nBRIG_VM_V1_CONTROLLERS=%q\n' "$V1_COMOUNT" "$V1_CONTROLLERS"
    printf 'BRIG_VM_MODULES=%q\n' "$MODDIR"
    printf 'BRIG_VM_CMD=('; printf '%q ' "${CMD[@]}"; printf ')\n'
    for n in $PASS_ENV; do
      if [ -n "${!n+x}" ]; then v=${!n}; printf 'export %s=%q\n' "$n" "$v"; fi
    done
  } > "$ctl/control"

  append="console=ttyS0 quiet panic=-1"
  [ "$layout" = v2 ] && append="$append cgroup_no_v1=all"   # no v1 hierarchy can be mounted at all
  append="$append ${BRIG_VM_APPEND:-}"

  RUN=$(mktemp -d "${TMPDIR:-/tmp}/brig-vm.XXXXXX")
  : > "$RUN/console.log"; : > "$RUN/output.log"
  echo "== brig-vm $layout: booting $KVER ($ACCEL, ${SMP} cpus, ${MEM} MiB); logs in $out"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "${REAPER[@]}" timeout -k 5 "$TIMEOUT" "${REAPER[@]}" qemu-system-x86_64 "${ACCEL_ARGS[@]}" -machine pc "${BIOS_ARGS[@]}" -smp "$SMP" -m "$MEM" \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -kernel "$CACHE/kernel/vmlinux" -initrd "$INITRD" -append "$append" \
    -serial "file:$RUN/console.log" \
    -chardev "file,id=out,path=${RUN//,/,,}/output.log" \
    -device virtio-serial-pci -device virtserialport,chardev=out,name=brig-vm.out \
    -fsdev local,id=fsroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device "virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot" \
    -fsdev "local,id=fsshare,path=${out//,/,,},security_model=passthrough,multidevs=remap" \
    -device "virtio-9p-pci,fsdev=fsshare,mount_tag=share" \
    ${BRIG_VM_QEMU_EXTRA:-} </dev/null >"$RUN/qemu.err" 2>&1 &
  QPID=$!
  # boot watchdog: the guest prints its first line when the test command starts
  ( sleep "$BOOT_TIMEOUT" & sp=$!; trap 'kill $sp; exit' TERM; wait $sp
    [ -s "$RUN/output.log" ] || { : > "$RUN/boot-timeout"; kill "$QPID"; } ) 2>/dev/null &
  dogpid=$!
  # stream: tail follows the port's file until qemu (via timeout) is gone
  tail -s 0.2 -n +1 -F --pid="$QPID" "$RUN/output.log" 2>/dev/null | sed -u "s/^/[$layout] /" &
  tailpid=$!
  if [ -n "${BRIG_VM_VERBOSE:-}" ]; then tail -s 0.2 -n +1 -F --pid="$QPID" "$RUN/console.log" >&2 2>/dev/null & fi
  set +e; wait "$QPID"; QRC=$?; set -e
  QPID=
  t1=$(date +%s.%N)
  kill "$dogpid" 2>/dev/null || true; wait "$dogpid" 2>/dev/null || true
  wait "$tailpid" 2>/dev/null || true
  cp "$RUN/output.log" "$out/output.log"; cp "$RUN/console.log" "$out/console.log"

  WALL=$(secs "$t0" "$t1"); BOOT='?'; SETUP='?'; TESTS='?'
  if [ -f "$ctl/times" ]; then   # guest uptimes: guest.sh start, test command start, test command end
    read -r a b c < "$ctl/times" || true
    BOOT=$(secs 0 "$a"); SETUP=$(secs "$a" "$b"); TESTS=$(secs "$b" "$c")
  fi
  if [ -f "$ctl/rc" ]; then
    RC=$(cat "$ctl/rc")
  else
    if [ -f "$RUN/boot-timeout" ]; then RC=124; echo "brig-vm $layout: no boot within ${BOOT_TIMEOUT}s" >&2
    elif [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then RC=124; echo "brig-vm $layout: timeout after ${TIMEOUT}s" >&2
    else RC=125; fi
    echo "brig-vm $layout: no exit status from the guest (qemu rc $QRC); qemu stderr and kernel console tail:" >&2
    sed 's/^/  /' "$RUN/qemu.err" >&2
    tail -n 40 "$RUN/console.log" | sed 's/^/  console: /' >&2
  fi
  rm -f "$ctl/control" "$ctl/guest.sh"
  rm -rf "$RUN"; RUN=
  local verdict=PASS; [ "$RC" = 0 ] || verdict=FAIL
  echo "== brig-vm $layout: $verdict (rc $RC) boot ${BOOT}s setup ${SETUP}s tests ${TESTS}s wall ${WALL}s"
}

mkdir -p "$CACHE"
exec 9>>"$CACHE/.lock"
# one setup, and one VM at a time (TCG eats every CPU it gets)
flock -n 9 || { echo "brig-vm: waiting for another run.sh (lock $CACHE/.lock)" >&2; flock 9; }
setup

FIRST_RC=0
SUMMARY=()
for layout in "${LAYOUTS[@]}"; do
  boot "$layout"
  SUMMARY+=("$(printf '%-7s %-4s rc=%-3s boot %5ss  setup %5ss  tests %6ss  wall %6ss' "$layout" \
    "$([ "$RC" = 0 ] && echo PASS || echo FAIL)" "$RC" "$BOOT" "$SETUP" "$TESTS" "$WALL")")
  if [ "$RC" != 0 ] && [ "$FIRST_RC" = 0 ]; then FIRST_RC=$RC; fi
done
if [ ${#LAYOUTS[@]} -gt 1 ]; then
  echo "== brig-vm summary"
  printf '   %s\n' "${SUMMARY[@]}"
fi
exit "$FIRST_RC"
