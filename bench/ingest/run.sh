#!/usr/bin/env bash
# Times `import` of a folder of saved Graph responses, first into an empty database and then the
# same folder again (nothing changes), on SQLite and PostgreSQL, with /usr/bin/time -v: wall
# time, CPU seconds (user + system, the gateway process) and max RSS, and on PostgreSQL the CPU
# of the server's backends for the import's database (sampled, so a little low). The figures of
# docs/performance.md ("Importing Graph data") come from it.
#
#   bench/ingest/run.sh                    the 100,000-result folder (../shared/bench/make-graph-folder.py
#                                          4 25 5 200), made once in the work folder
#   FOLDER=DIR                             import DIR instead
#   ENGINES="sqlite postgres"              which engines (default both)
#   BIN=path                               a gateway binary to time (default: build this checkout)
#   LCW_BENCH_PG=postgres://...            the server for the PostgreSQL half
#                                          (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_INGEST_DIR                       work folder (default /tmp/lcw-bench-ingest)
#
# Each run gets a database of its own (a new SQLite file, a new PostgreSQL database dropped after).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"
work="${BENCH_INGEST_DIR:-/tmp/lcw-bench-ingest}"
mkdir -p "$work"
pg="${LCW_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
folder="${FOLDER:-$work/graph-100k}"
if [ ! -d "$folder" ]; then
  gen="$root/../shared/bench/make-graph-folder.py"
  [ -f "$gen" ] || { echo "no FOLDER and no $gen to make one" >&2; exit 2; }
  python3 "$gen" 4 25 5 200 "$folder.tmp" && mv "$folder.tmp" "$folder"
fi
bin="${BIN:-}"
if [ -z "$bin" ]; then
  bin="$work/lcw-gateway"
  (cd "$root" && go build -o "$bin" .)
fi

# timed LABEL DSN [DATABASE]: one import, its figures on one line. With a PostgreSQL DATABASE,
# the CPU of its server backends too, sampled from /proc every 0.2 s while the import runs.
timed() {
  local out="$work/time.txt"
  /usr/bin/time -v -o "$out" "$bin" import "$folder" --db "$2" --log-level warn >/dev/null &
  local pid=$! backends=""
  declare -A ticks=()
  while kill -0 "$pid" 2>/dev/null; do
    if [ -n "${3:-}" ]; then
      for b in $(psql "$pg" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$3'" 2>/dev/null); do
        t=$(awk '{print $14 + $15}' "/proc/$b/stat" 2>/dev/null) && [ -n "$t" ] && ticks[$b]=$t
      done
    fi
    sleep 0.2
  done
  wait "$pid"
  if [ -n "${3:-}" ]; then
    local sum=0
    for b in "${!ticks[@]}"; do sum=$((sum + ticks[$b])); done
    backends=$(awk -v t="$sum" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "   server backends CPU %.2f s", t / hz }')
  fi
  awk -v label="$1" -v extra="$backends" -F': ' '
    /User time/ {u=$2} /System time/ {s=$2} /Elapsed \(wall clock\)/ {w=$2} /Maximum resident/ {r=$2}
    END {
      n = split(w, p, ":"); secs = 0; for (i = 1; i <= n; i++) secs = secs * 60 + p[i]
      printf "%-28s wall %7.2f s   CPU %6.2f s (user %.2f + sys %.2f)   max RSS %4d MB%s\n", label, secs, u + s, u, s, r / 1024, extra
    }' "$out"
}

for engine in ${ENGINES:-sqlite postgres}; do
  case "$engine" in
  sqlite)
    file="$work/import.db"
    rm -f "$file" "$file-wal" "$file-shm"
    dsn="$file"
    ;;
  postgres)
    name="lcw_bench_ingest_$$"
    psql "$pg" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    dsn="${pg%/*}/$name?sslmode=disable"
    ;;
  esac
  "$bin" migrate --db "$dsn" --log-level warn >/dev/null
  database=""
  [ "$engine" = postgres ] && database="$name"
  timed "$engine, first import" "$dsn" "$database"
  timed "$engine, same folder again" "$dsn" "$database"
  case "$engine" in
  sqlite) rm -f "$file" "$file-wal" "$file-shm" ;;
  postgres) psql "$pg" -qc "DROP DATABASE $name" ;;
  esac
done
