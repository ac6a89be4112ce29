#!/usr/bin/env bash
# The bench's four loads (Q1-Q4 of ../shared/bench, read there at run time) against the gateway on
# SQLite, on the bench's rows: 5,000 task reports, 1,000,000 results, tenant "default". The rows
# are copied from the gateway's tables in the bench's PostgreSQL (after its gateway/load.sql) into
# a SQLite file by bench/sqlite/convert, once; later runs with the same SQLite migrations and
# converter reuse the file (another branch's build gets a file of its own).
#
#   bench/sqlite/run.sh                 RUNS=3 DURATION=10s CONNS="10 50", as ../shared/bench/run.sh
#   QUICK=1 bench/sqlite/run.sh         1 run x 5 s at 10 connections: a quick look
#   SOURCE_DB=postgres://...            where to read the rows (default: the bench's PostgreSQL,
#                                       127.0.0.1:55432/peer, set up by ../shared/bench/run.sh)
#   BUILD_SOURCE=1                      no bench PostgreSQL: load the bench's SQL into a throw-away
#                                       database on LCW_BENCH_PG (default 127.0.0.1:5432), then drop it
#   REBUILD=1                           convert again although the SQLite file exists
#   BENCH_SQLITE_DIR                    work folder (default /tmp/lcw-bench-sqlite): bench-KEY.db, binaries,
#                                       results/run-*/ (raw wrk outputs and summary.md)
#   GW_EXTRA="--db-max-open-conns 4"    more serve flags; the default is the gateway's own defaults
#   BENCH=DIR                           the bench (default ../shared/bench beside the checkout)
#
# Needs wrk, curl, jq, python3, psql. Loopback only. CPU is sampled per process as the bench does:
# a run during which other processes used more than OTHER_MAX (default 0.5) cores is run again, up
# to 4 times. Each response is checked for GraphQL errors and, when the PostgreSQL rows are there
# (SOURCE_DB), compared with the same binary's response on them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bench="${BENCH:-$root/../shared/bench}"
if [ ! -f "$bench/load/load.sh" ] || [ ! -d "$bench/peer-lcw/gateway" ]; then
  echo "the bench is absent ($bench): this script reads its SQL, load script and request bodies at run time;" >&2
  echo "set BENCH to its folder" >&2
  exit 2
fi
bench="$(cd "$bench" && pwd)"
echo "bench: $bench"
for tool in wrk curl jq python3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install -y $tool)" >&2; exit 2; }
done
export PATH="$PATH:/usr/local/go/bin"
work="${BENCH_SQLITE_DIR:-/tmp/lcw-bench-sqlite}"
mkdir -p "$work"
# The file's name holds a hash of what it is made from: the SQLite migrations (names and contents)
# and the converter, so a file migrated by another build is never opened by this one.
key=$(cd "$root" && for f in db/migrations/sqlite/* bench/sqlite/convert/main.go; do echo "$f"; cat "$f"; done | sha1sum | cut -c1-12)
file="$work/bench-$key.db"
port="${PORT:-5601}"

echo "== build"
(cd "$root" && go build -o "$work/lcw-gateway" . && go build -o "$work/convert" ./bench/sqlite/convert)

# convert_from DSN: the gateway's tables at DSN into $file, through a temporary file so an
# interrupted conversion is never taken for a finished one.
convert_from() {
  rm -f "$file.tmp" "$file.tmp-wal" "$file.tmp-shm"
  /usr/bin/time -f "convert: %e s, %M KB max RSS" "$work/convert" --from "$1" --to "$file.tmp" 2>&1 | tee "$work/convert.log"
  mv "$file.tmp" "$file"
  echo "$file: $(du -h "$file" | cut -f1)" | tee -a "$work/convert.log"
}

if [ "${REBUILD:-}" = 1 ] || [ ! -f "$file" ]; then
  rm -f "$file" "$file-wal" "$file-shm"
  if [ "${BUILD_SOURCE:-}" = 1 ]; then
    server="${LCW_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
    name="lcw_bench_sqlite_src_$$"
    src=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$server" "$name")
    echo "== building the bench's rows in a throw-away database $name"
    psql -q "$server" -c "CREATE DATABASE $name"
    trap 'psql -q "$server" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null' EXIT
    psql -q "$src" -v ON_ERROR_STOP=1 -f "$bench/peer-lcw/sql/schema.sql" >/dev/null
    t0=$SECONDS
    psql -q "$src" -v ON_ERROR_STOP=1 -f "$bench/peer-lcw/sql/data.sql" >/dev/null
    "$work/lcw-gateway" migrate --db "$src" >/dev/null
    psql -q "$src" -v ON_ERROR_STOP=1 -f "$bench/peer-lcw/gateway/load.sql" >/dev/null
    echo "loaded in $((SECONDS - t0)) s"
    echo "== converting"
    convert_from "$src"
    psql -q "$server" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
    trap - EXIT
  else
    src="${SOURCE_DB:-postgres://postgres@127.0.0.1:55432/peer?sslmode=disable}"
    if ! n=$(psql "$src" -Atc "SELECT count(*) FROM task_processing_results WHERE tenant_id = 'default'" 2>/dev/null) || [ "$n" -eq 0 ]; then
      echo "no gateway rows at $src: set the bench's PostgreSQL up with ../shared/bench/run.sh" >&2
      echo "(QUICK=1 SERVERS=gateway is enough), point SOURCE_DB elsewhere, or use BUILD_SOURCE=1" >&2
      exit 2
    fi
    echo "== converting $n results from $src"
    convert_from "$src"
  fi
else
  echo "reusing $file ($(du -h "$file" | cut -f1)); REBUILD=1 converts again"
fi

if [ "${QUICK:-}" = 1 ]; then runs=1; dur=5s; conns="10"; else runs="${RUNS:-3}"; dur="${DURATION:-10s}"; conns="${CONNS:-10 50}"; fi
secs="${dur%s}"; [ "$secs" -ge 5 ] 2>/dev/null || { echo "DURATION must be whole seconds >= 5 (e.g. 10s)" >&2; exit 2; }
other_max="${OTHER_MAX:-0.5}"
out="$work/results/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/raw" "$out/responses"
url="http://127.0.0.1:$port/graphql"
body() { case "$1" in q1) echo q1-dashboard.json;; q2) echo q2-summary.json;; q3) echo q3-lookup.json;; q4) echo q4-failed.json;; esac; }
bodies="$bench/peer-lcw/gateway"

echo "== gateway on $file"
# shellcheck disable=SC2086
"$work/lcw-gateway" --addr "127.0.0.1:$port" --seed none --rate-limit 0 --db "$file" \
  --log-level "${GW_LOG_LEVEL:-warn}" ${GW_EXTRA:-} > "$out/raw/server.log" 2>&1 &
pid=$!
pg_pid=
trap 'kill "$pid" ${pg_pid:-} 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 150); do
  curl -s -o /dev/null -X POST -H 'content-type: application/json' --data-binary "@$bodies/$(body q3)" "$url" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/raw/server.log"; exit 1; }
  sleep 0.2
done
echo "pid $pid, $url, flags: --rate-limit 0 ${GW_EXTRA:-}"

# The same answers as the same binary on the PostgreSQL rows, when that database answers: a second
# gateway on it serves the four requests once (pool 2) and stops before the loads.
ask() { curl -s -o "$3" -X POST -H 'content-type: application/json' --data-binary "@$bodies/$(body "$2")" "$1"; }
pg_db="${SOURCE_DB:-postgres://postgres@127.0.0.1:55432/peer?sslmode=disable}"
if psql "$pg_db" -Atc "SELECT 1 FROM task_processing_results LIMIT 1" >/dev/null 2>&1; then
  "$work/lcw-gateway" --addr "127.0.0.1:$((port + 1))" --seed none --rate-limit 0 --db "$pg_db" --db-max-open-conns 2 \
    --log-level warn > "$out/raw/server-postgres.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 1 150); do
    ask "http://127.0.0.1:$((port + 1))/graphql" q3 /dev/null && break
    sleep 0.2
  done
fi
for q in q1 q2 q3 q4; do
  r="$out/responses/$q.json"
  ask "$url" "$q" "$r"
  jq -e '.errors == null and .data != null' "$r" >/dev/null || { echo "$q: GraphQL errors: $(head -c 500 "$r")" >&2; exit 1; }
  same="not compared: no gateway rows at $pg_db"
  if [ -n "$pg_pid" ]; then
    ask "http://127.0.0.1:$((port + 1))/graphql" "$q" "$out/responses/$q-postgres.json"
    if [ "$(jq -cS . "$r")" = "$(jq -cS . "$out/responses/$q-postgres.json")" ]; then same="yes"; else same="NO"; fi
  fi
  echo "$q: $(wc -c < "$r") bytes; the same response as the gateway on PostgreSQL: $same"
done | tee "$out/responses/check.txt"
if [ -n "$pg_pid" ]; then kill "$pg_pid"; wait "$pg_pid" 2>/dev/null || true; pg_pid=; fi
! grep -q ': NO$' "$out/responses/check.txt" || { echo "the engines answer differently" >&2; exit 1; }

for q in q1 q2 q3 q4; do
  CHECK_BODY=1 "$bench/load/load.sh" "$url" "$bodies/$(body "$q")" 3s 50 > "$out/raw/$q-warmup-check.txt" 2>&1
  echo "warm-up $q: $(grep -E '^requests_per_sec|^graphql_error|^non_2xx' "$out/raw/$q-warmup-check.txt" | tr '\n' ' ')"
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# quiet: wait (at most 60 s) until the machine is under 0.25 cores busy over a second.
quiet() {
  local b0
  for _ in $(seq 1 60); do
    b0=$(busy); sleep 1
    [ $(($(busy) - b0)) -lt 25 ] && return 0
  done
  echo "  machine not idle after 60 s; running anyway"
}
for q in q1 q2 q3 q4; do
  for c in $conns; do
    for r in $(seq 1 "$runs"); do
      f="$out/raw/gateway-sqlite-$q-c$c-r$r.txt"
      for attempt in 1 2 3 4; do
        quiet
        "$bench/load/load.sh" "$url" "$bodies/$(body "$q")" "$dur" "$c" > "$f" 2>&1 & lpid=$!
        # Sampled over the middle of the run, as the bench does.
        sleep 2; s0=$(ticks "$pid"); l0=$(ticks "$lpid"); b0=$(busy); t0=$(date +%s.%N)
        sleep "$((secs - 3))"; s1=$(ticks "$pid"); l1=$(ticks "$lpid"); b1=$(busy); t1=$(date +%s.%N)
        wait "$lpid"
        python3 - "$s0" "$s1" "$l0" "$l1" "$b0" "$b1" "$t0" "$t1" >> "$f" <<'PY'
import sys
s0, s1, l0, l1, b0, b1 = (int(x) for x in sys.argv[1:7])
secs = float(sys.argv[8]) - float(sys.argv[7])
server, load, busy = ((b - a) / 100 / secs for a, b in ((s0, s1), (l0, l1), (b0, b1)))
print("cpu_cores: server=%.2f postgres=0.00 wrk=%.2f other=%.2f busy=%.2f (of 2, sampled over %.1f s mid-run)"
      % (server, load, busy - server - load, busy, secs))
PY
        other=$(sed -n 's/^cpu_cores: .* other=\([-0-9.]*\) .*/\1/p' "$f")
        if python3 -c "import sys; sys.exit(0 if float('$other') <= $other_max else 1)"; then break; fi
        mkdir -p "$out/raw/rejected"; cp "$f" "$out/raw/rejected/$(basename "$f" .txt)-attempt$attempt.txt"
        echo "  rejected $q c=$c r=$r attempt $attempt: other=$other cores"
      done
      echo "$q c=$c r=$r: $(grep -E '^requests_per_sec|^latency_ms|^cpu_cores' "$f" | tr '\n' ' ')"
    done
  done
done

OUT="$out" FLAGS="--rate-limit 0 ${GW_EXTRA:-}" python3 - <<'PY' | tee "$out/summary.md"
import glob, os, re, statistics
out, med = os.environ["OUT"], statistics.median
names = {"q1": "Q1 dashboard", "q2": "Q2 summary", "q3": "Q3 lookup", "q4": "Q4 failed"}
runs = {}
for f in sorted(glob.glob(os.path.join(out, "raw", "gateway-sqlite-q*-c*-r*.txt"))):
    q, c = re.search(r"-(q\d)-c(\d+)-r\d+\.txt$", f).groups()
    t = open(f).read()
    rps = re.search(r"^requests_per_sec: ([\d.]+)", t, re.M)
    lat = re.search(r"^latency_ms: .*p50=([\d.]+) .*p99=([\d.]+) ", t, re.M)
    cpu = re.search(r"^cpu_cores: server=([-\d.]+) .* wrk=([-\d.]+) other=([-\d.]+)", t, re.M)
    bad = re.search(r"^non_2xx_3xx: (\d+)", t, re.M)
    if rps and lat and cpu:
        runs.setdefault((q, int(c)), []).append((float(rps[1]), float(lat[1]), float(lat[2]),
                                                 float(cpu[1]), float(cpu[2]), float(cpu[3]), int(bad[1]) if bad else 0))
print(f"gateway on SQLite ({os.environ['FLAGS'].strip()}), medians of each metric over the runs\n")
print("| query | conns | req/s | p50 ms | p99 ms | CPU cores: server / wrk / other | server CPU ms per request | runs |")
print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
for (q, c), rs in sorted(runs.items()):
    m = [med(x[i] for x in rs) for i in range(6)]
    errs = sum(x[6] for x in rs)
    print(f"| {names[q]} | {c} | {m[0]:,.0f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.2f} / {m[4]:.2f} / {m[5]:.2f} | "
          f"{1000 * m[3] / m[0]:.2f} | {len(rs)}{f' ({errs} non-2xx)' if errs else ''} |")
PY
echo "results: $out"
