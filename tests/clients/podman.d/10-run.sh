# podman scenarios: running containers (sourced by podman.sh; see lib.sh for the helpers).

scenario run_attached
t_run_attached() {
    out=$(pmr run --rm $CG "$IMAGE" sh -c 'echo hello; exit 3' 2>&1) && rc=0 || rc=$?
    check_eq "output" "$out" hello
    check_eq "exit code" "$rc" 3
}

scenario run_tty
t_run_tty() {
    out=$(pmr run --rm -t $CG "$IMAGE" sh -c 'tty' | tr -d '\r')
    check_match "tty" "$out" '^/dev/pts/[0-9]+$'
}
