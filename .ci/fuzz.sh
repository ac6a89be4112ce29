#!/usr/bin/env bash
# Runs each fuzz target briefly (LCW_FUZZTIME, default 20s each) on top of its committed seed
# corpus (endpoint/testdata/fuzz). A failing input is written to that folder: commit it with the fix,
# so it stays a regression test for go test.
# -fuzzminimizetime: a new input is minimised with real requests; the default minute of that
# stalls a short run, and a short one loses nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
fuzztime=${LCW_FUZZTIME:-20s}
for target in FuzzRequest FuzzCursor FuzzPageArgs; do
  printf '\n-- %s (%s) --\n' "$target" "$fuzztime"
  go test ./endpoint -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s
done
