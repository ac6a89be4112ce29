#!/usr/bin/env bash
# The fixtures the tests read are a copy carried by the repository (testdata/fixtures), so a clone
# tests itself with nothing beside it. This checks that the copy is still exactly what
# ../shared/fixtures holds, when that folder is there (LCW_SHARED_FIXTURES names another place).
#
# The rule: every top-level entry of testdata/fixtures (a file, or a fixture folder) is a copied
# entry. Each must exist in ../shared/fixtures, and the two trees under it must hold the same
# files with the same bytes: a difference, or a file present on one side only, fails. Top-level
# entries of ../shared/fixtures that were never copied (no test reads them) are listed, not failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
copy="$root/testdata/fixtures"
shared="${LCW_SHARED_FIXTURES:-$root/../shared/fixtures}"

if [ ! -d "$shared" ]; then
  echo "skipped: $shared does not exist, nothing to compare testdata/fixtures with"
  exit 0
fi
shared="$(cd "$shared" && pwd)"

failed=0
for path in "$copy"/* "$copy"/.[!.]*; do
  [ -e "$path" ] || continue
  entry="$(basename "$path")"
  if [ ! -e "$shared/$entry" ]; then
    echo "testdata/fixtures/$entry: not in $shared" >&2
    failed=1
  elif diff -rq "$shared/$entry" "$path" >&2; then
    echo "testdata/fixtures/$entry: same as $shared/$entry"
  else
    failed=1
  fi
done
for path in "$shared"/* "$shared"/.[!.]*; do
  [ -e "$path" ] || continue
  entry="$(basename "$path")"
  [ -e "$copy/$entry" ] || echo "$shared/$entry: not copied (no test reads it)"
done
if [ "$failed" -ne 0 ]; then
  echo "testdata/fixtures differs from $shared: copy the shared fixtures again (cp -r), unchanged" >&2
  exit 1
fi
