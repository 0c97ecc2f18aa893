#!/bin/sh
# Builds and runs the OCI runtime conformance suite against one runtime.
#
#   RUNTIME=/path/to/runtime conformance/run.sh [runner options]
#
# RUNTIME defaults to target/release/brig of the repository. Runner options: --expect FILE
# (fail only if a listed check does not pass), --write-expected FILE, --filter SUBSTR,
# --list, --verbose, --timeout SECS, --results FILE. RUNTIME_TOOLS_VALIDATION=DIR also runs
# the upstream runtime-tools validation/*.t programs in DIR. See docs/conformance.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNTIME=${RUNTIME:-$repo/target/release/brig}
export RUNTIME
# The suite's own workspace: cargo must run from here to pick up .cargo/config.toml (static link).
(cd "$here" && cargo build --release --locked --quiet ${CONFORMANCE_CARGO_FLAGS:-})
exec "$here/target/x86_64-unknown-linux-gnu/release/conformance-runner" "$@"
