#!/bin/sh
# Prints the per-case markdown table of docs/conformance.md from `--results` TSV files.
#   conformance/results-table.sh runc=/tmp/runc.tsv crun=/tmp/crun.tsv brig=/tmp/brig.tsv
# A cell is `passed/run` checks, `pass (n)` when all passed, `skip` when only skipped.
set -eu
awk -F'\t' '
BEGIN {
    for (i = 1; i < ARGC; i++) {
        split(ARGV[i], kv, "="); name[i] = kv[1]; ARGV[i] = kv[2]; n = i
    }
}
FNR == 1 { f++ }
{
    if (!($1 in seen)) { seen[$1] = 1; order[++cases] = $1 }
    if ($3 == "pass") p[f, $1]++
    else if ($3 == "fail") x[f, $1]++
    else s[f, $1]++
    ran[f, $1] = 1
}
END {
    hdr = "| case |"; sep = "| --- |"
    for (i = 1; i <= n; i++) { hdr = hdr " " name[i] " |"; sep = sep " --- |" }
    print hdr; print sep
    for (c = 1; c <= cases; c++) {
        id = order[c]; row = "| `" id "` |"
        for (i = 1; i <= n; i++) {
            if (!ran[i, id]) cell = "not run"
            else if (x[i, id]) cell = p[i, id] + 0 "/" p[i, id] + x[i, id]
            else if (p[i, id]) cell = "pass (" p[i, id] ")"
            else cell = "skip"
            row = row " " cell " |"
        }
        print row
    }
}' "$@"
