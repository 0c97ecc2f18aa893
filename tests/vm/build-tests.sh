#!/bin/bash
# tests/vm/build-tests.sh — build the workspace's test executables on the host and list them for the VM.
#
# usage: tests/vm/build-tests.sh [LIST] [-- CARGO_TEST_ARGS...]
#   Runs `cargo test --no-run` (diagnostics on stderr as usual) and writes LIST (default target/vm/tests.list):
#   one line per test executable, "EXECUTABLE PACKAGE_DIR". tests/vm/inside.sh runs each line's executable
#   with cwd PACKAGE_DIR and CARGO_MANIFEST_DIR set, as `cargo test` would, when BRIG_VM_TEST_LIST=LIST.
#   Paths are absolute: the VM sees the host's files at the same paths.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LIST=target/vm/tests.list
if [ $# -gt 0 ] && [ "$1" != -- ]; then LIST=$1; shift; fi
[ "${1:-}" != -- ] || shift
mkdir -p "$(dirname "$LIST")"
cargo test --no-run --message-format=json-render-diagnostics "$@" \
  | sed -n 's/.*"manifest_path":"\([^"]*\)\/Cargo\.toml".*"executable":"\([^"]*\)".*/\2 \1/p' > "$LIST.tmp"
mv "$LIST.tmp" "$LIST"
echo "build-tests: $(wc -l < "$LIST") test executables listed in $LIST" >&2
