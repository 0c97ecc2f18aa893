#!/bin/bash
# make bench: brig side by side with runc and crun in one run (hyperfine), printing ratios.
#   lifecycle = create + start + delete --force of a container running /bin/true
#   run       = run (foreground) of /bin/true
#   state     = state of a created container
# plus peak RSS (GNU time) of create and state. Usage: bench.sh [BRIG_BINARY]
set -euo pipefail
BRIG=$(realpath "${1:-target/release/brig}")
RUNS=${BENCH_RUNS:-30}

# crun 1.8 refuses hybrid cgroup hosts: run the whole benchmark (all runtimes alike) in a
# private mount namespace without the cgroup2 mount.
if [ -z "${BRIG_BENCH_INNER:-}" ] && grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then
  exec unshare -m env BRIG_BENCH_INNER=1 bash -c 'umount /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
fi

W=$(mktemp -d /tmp/brig-bench.XXXXXX)
cleanup() {
  for r in brig runc crun; do
    bin=$BRIG; [ $r = brig ] || bin=$r
    for id in $("$bin" --root "$W/state-$r" list -q 2>/dev/null); do "$bin" --root "$W/state-$r" delete --force "$id" >/dev/null 2>&1 || true; done
  done
  for d in /sys/fs/cgroup/*/brig-bench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/bundle/rootfs/bin"
cp /bin/busybox "$W/bundle/rootfs/bin/" && ln -s busybox "$W/bundle/rootfs/bin/true" && ln -s busybox "$W/bundle/rootfs/bin/sleep"
"$BRIG" spec --bundle "$W/bundle"
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["linux"]["cgroupsPath"] = "/brig-bench/c"
c["ociVersion"] = "1.0.2"  # crun 1.8 refuses newer versions
json.dump(c, open(p, "w"), indent=2)
PY

declare -A BIN=([brig]="$BRIG" [runc]="$(command -v runc)" [crun]="$(command -v crun)")
RUNTIMES=(brig runc crun)
bench_lifecycle() { echo "$1 --root $W/state-$2 create --bundle $W/bundle L && $1 --root $W/state-$2 start L && $1 --root $W/state-$2 delete --force L"; }
bench_run() { echo "$1 --root $W/state-$2 run --bundle $W/bundle R >/dev/null"; }

for bench in lifecycle run; do
  args=()
  for r in "${RUNTIMES[@]}"; do
    args+=(-n "$r" "$(bench_$bench "${BIN[$r]}" "$r")")
  done
  hyperfine -N -w 3 -r "$RUNS" --export-json "$W/$bench.json" "${args[@]}" >/dev/null 2>&1 || \
    hyperfine -w 3 -r "$RUNS" --export-json "$W/$bench.json" "${args[@]}" >/dev/null
done

# state of a created container (each runtime its own)
args=()
for r in "${RUNTIMES[@]}"; do
  "${BIN[$r]}" --root "$W/state-$r" create --bundle "$W/bundle" S >/dev/null
  args+=(-n "$r" "${BIN[$r]} --root $W/state-$r state S")
done
hyperfine -N -w 5 -r $((RUNS * 3)) --export-json "$W/state.json" "${args[@]}" >/dev/null
for r in "${RUNTIMES[@]}"; do
  /usr/bin/time -f %M -o "$W/rss-state-$r" "${BIN[$r]}" --root "$W/state-$r" state S >/dev/null
  "${BIN[$r]}" --root "$W/state-$r" delete --force S
  /usr/bin/time -f %M -o "$W/rss-create-$r" "${BIN[$r]}" --root "$W/state-$r" create --bundle "$W/bundle" M >/dev/null
  "${BIN[$r]}" --root "$W/state-$r" delete --force M
done

python3 - "$W" <<'PY'
import json, sys, os
w = sys.argv[1]
print(f"{'benchmark':<12}{'brig':>12}{'runc':>12}{'crun':>12}{'runc/brig':>11}{'crun/brig':>11}")
for b in ["lifecycle", "run", "state"]:
    res = {r["command"]: r["mean"] * 1000 for r in json.load(open(f"{w}/{b}.json"))["results"]}
    br, ru, cr = res["brig"], res["runc"], res["crun"]
    print(f"{b + ' (ms)':<12}{br:>12.2f}{ru:>12.2f}{cr:>12.2f}{ru/br:>10.2f}x{cr/br:>10.2f}x")
for b in ["create", "state"]:
    kb = {r: int(open(f"{w}/rss-{b}-{r}").read().split()[-1]) for r in ["brig", "runc", "crun"]}
    print(f"{'rss ' + b + ' (KiB)':<12}{kb['brig']:>12}{kb['runc']:>12}{kb['crun']:>12}{kb['runc']/kb['brig']:>10.2f}x{kb['crun']/kb['brig']:>10.2f}x")
print("(ratios > 1: brig is faster / smaller)")
PY
