#!/usr/bin/env bash
# Runs each fuzz target for a fixed number of executions (about 20 s each on this machine when quiet)
# on top of its committed seed corpus (endpoint/testdata/fuzz). A failing input is written to that
# folder: commit it with the fix, so it stays a regression test for go test.
# Counts, not durations: a -fuzztime duration races Go's fuzz coordinator against its own deadline
# and can fail with a bare "context deadline exceeded" and no input (golang/go#75804, fixed in Go
# 1.27, not in 1.26). A count has no deadline; a loaded machine only takes longer.
# LCW_FUZZSCALE multiplies every count (e.g. 10 for a longer run).
# -fuzzminimizetime: a new input is minimised with real requests; the default minute of that
# stalls a short run, and a short one loses nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scale=${LCW_FUZZSCALE:-1}
for spec in FuzzRequest:60000 FuzzCursor:30000 FuzzPageArgs:40000; do
  target=${spec%%:*}
  execs=$((${spec##*:} * scale))
  printf '\n-- %s (%sx) --\n' "$target" "$execs"
  go test ./endpoint -run '^$' -fuzz "^${target}\$" -fuzztime "${execs}x" -fuzzminimizetime 3s
done
