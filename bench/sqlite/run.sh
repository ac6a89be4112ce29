#!/usr/bin/env bash
# The bench's four loads (Q1-Q4 of ../shared/bench, read there at run time) against the gateway on
# SQLite, on the bench's rows: 5,000 task reports, 1,000,000 results, tenant "default". The rows
# are copied from the gateway's tables in the bench's PostgreSQL (after its gateway/load.sql) into
# a SQLite file by bench/sqlite/convert (about 90 s), once; later runs reuse the file. A build
# whose SQLite migrations extend those of a file already made (a branch that adds one) migrates a
# copy of it with the gateway's own `migrate` instead of converting again; a build whose
# migrations differ otherwise converts a file of its own.
#
#   bench/sqlite/run.sh                 RUNS=3 DURATION=10s CONNS="10 50", as ../shared/bench/run.sh
#   QUICK=1 bench/sqlite/run.sh         1 run x 5 s at 10 connections (or CONNS): a quick look
#   SOURCE_DB=postgres://...            where to read the rows (default: the bench's PostgreSQL,
#                                       127.0.0.1:55432/peer, set up by ../shared/bench/run.sh)
#   BUILD_SOURCE=1                      no bench PostgreSQL: load the bench's SQL into a throw-away
#                                       database on LCW_BENCH_PG (default 127.0.0.1:5432), then drop it
#   REBUILD=1                           convert again although a file exists
#   FILE_ONLY=1                         make the file (convert or migrate) and stop
#   BENCH_SQLITE_DIR                    work folder (default /tmp/lcw-bench-sqlite): bench-KEY.db and
#                                       the notes beside it, results/run-*/ (summary.md, raw wrk
#                                       outputs, the responses, the binaries while running)
#   GW_EXTRA="--db-max-open-conns 4"    more serve flags; the default is the gateway's own defaults
#                                       (add --pprof-addr 127.0.0.1:PORT to profile it during the loads)
#   OTHER_MAX=0.5 QUIET_WAIT=60         a run is taken when other processes used at most OTHER_MAX cores
#                                       (else run again, 4 attempts); before each, wait up to QUIET_WAIT s
#                                       for an idle machine (a dry run on a busy one: OTHER_MAX=9 QUIET_WAIT=0)
#   PORT                                the gateway's port (default 5601; PORT+1 for the PostgreSQL check)
#   BENCH=DIR                           the bench (default ../shared/bench beside the checkout)
#
# Needs wrk, curl, jq, python3, psql. Loopback only. CPU is sampled per process as the bench does:
# a run during which other processes used more than OTHER_MAX (default 0.5) cores is run again, up
# to 4 times. The server's resident set is sampled every 50 ms during each run (peak RSS). Each
# response is checked for GraphQL errors and, when the PostgreSQL rows are there (SOURCE_DB) and
# serving them would not migrate that database, compared with the same binary's response on them.
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
# The files are named by what they hold. Their rows: the bench's SQL, the source, the tenant and
# the converter (data_key). Their schema: the SQLite migrations applied, by name and content,
# listed beside the file (bench-KEY.db.migrations). KEY hashes both. A build whose migrations
# extend those of a file already made (a branch that adds one) gets a copy of that file brought
# up to date by the gateway's own `migrate`, as a user upgrading would, instead of a conversion;
# a file is never opened by a build whose migrations differ from those applied to it.
data_key=$( { for f in "$bench/peer-lcw/sql/schema.sql" "$bench/peer-lcw/sql/data.sql" "$bench/peer-lcw/gateway/load.sql" \
  "$root/bench/sqlite/convert/main.go"; do echo "${f##*/}"; cat "$f"; done; echo "source=${SOURCE_DB:-bench}"; } | sha1sum | cut -c1-12)
migs=$(cd "$root/db/migrations/sqlite" && for f in *; do echo "$f $(sha1sum < "$f" | cut -c1-40)"; done)
key=$(printf '%s\n%s\n' "$data_key" "$migs" | sha1sum | cut -c1-12)
file="$work/bench-$key.db"
port="${PORT:-5601}"

out="$work/results/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/raw" "$out/responses" "$out/bin"
gw="$out/bin/lcw-gateway" # a run's own binaries: another checkout may run beside it
echo "== build"
(cd "$root" && go build -o "$gw" . && go build -o "$out/bin/convert" ./bench/sqlite/convert)

# keep TMP: TMP becomes $file, with the notes that say what it holds (written first: a file
# without them is never taken as a base).
keep() {
  echo "$data_key" > "$file.data"
  echo "$migs" > "$file.migrations"
  [ ! -f "$1-wal" ] || mv "$1-wal" "$file-wal"
  mv "$1" "$file"
}

# convert_from DSN: the gateway's tables at DSN into $file, through a temporary file so an
# interrupted conversion is never taken for a finished one.
convert_from() {
  local tmp="$file.tmp$$"
  rm -f "$tmp" "$tmp-wal" "$tmp-shm"
  if ! /usr/bin/time -f "convert: %e s wall, %U s user, %S s system, %M KB max RSS" \
    "$out/bin/convert" --from "$1" --to "$tmp" 2>&1 | tee "$out/convert.log"; then
    rm -f "$tmp" "$tmp-wal" "$tmp-shm"
    exit 1
  fi
  keep "$tmp"
  made="converted in $(sed -n 's/^convert: \([0-9.]*\) s wall.*/\1/p' "$out/convert.log") s"
  echo "$file: $(du -h "$file" | cut -f1)" | tee -a "$out/convert.log"
}

# base: the file made from the same rows whose migrations are the longest proper prefix of ours.
base=
if [ "${REBUILD:-}" != 1 ] && [ ! -f "$file" ]; then
  best=0
  for m in "$work"/bench-*.db.migrations; do
    b="${m%.migrations}"
    [ -f "$b" ] && [ -f "$b.data" ] && [ "$(cat "$b.data")" = "$data_key" ] || continue
    n=$(wc -l < "$m")
    if [ "$n" -gt "$best" ] && [ "$(head -n "$n" <<<"$migs")" = "$(cat "$m")" ]; then best=$n; base=$b; fi
  done
fi

made="reused"
if [ -n "$base" ]; then
  echo "== migrating a copy of $base (made with the first $best of this build's $(wc -l <<<"$migs") SQLite migrations)"
  tmp="$file.tmp$$"
  rm -f "$tmp" "$tmp-wal" "$tmp-shm"
  t0=$(date +%s.%N)
  cp "$base" "$tmp"
  [ ! -f "$base-wal" ] || cp "$base-wal" "$tmp-wal"
  t1=$(date +%s.%N)
  if ! /usr/bin/time -f "migrate: %e s wall, %U s user, %S s system, %M KB max RSS" \
    "$gw" migrate --db "$tmp" 2>&1 | tee "$out/migrate.log"; then
    rm -f "$tmp" "$tmp-wal" "$tmp-shm"
    exit 1
  fi
  keep "$tmp"
  made=$(python3 -c 'import sys; a, b, c = map(float, sys.argv[1:4]); print("copied in %.0f s and migrated in %.0f s from %s" % (b - a, c - b, sys.argv[4]))' \
    "$t0" "$t1" "$(date +%s.%N)" "$(basename "$base")")
  echo "$made"
elif [ "${REBUILD:-}" = 1 ] || [ ! -f "$file" ]; then
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
    "$gw" migrate --db "$src" >/dev/null
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

if [ "${FILE_ONLY:-}" = 1 ]; then rm -rf "$out"; echo "$file ($made)"; exit 0; fi

if [ "${QUICK:-}" = 1 ]; then runs=1; dur=5s; conns="${CONNS:-10}"; else runs="${RUNS:-3}"; dur="${DURATION:-10s}"; conns="${CONNS:-10 50}"; fi
secs="${dur%s}"; [ "$secs" -ge 5 ] 2>/dev/null || { echo "DURATION must be whole seconds >= 5 (e.g. 10s)" >&2; exit 2; }
other_max="${OTHER_MAX:-0.5}"
url="http://127.0.0.1:$port/graphql"
body() { case "$1" in q1) echo q1-dashboard.json;; q2) echo q2-summary.json;; q3) echo q3-lookup.json;; q4) echo q4-failed.json;; esac; }
bodies="$bench/peer-lcw/gateway"

echo "== gateway on $file"
# shellcheck disable=SC2086
"$gw" --addr "127.0.0.1:$port" --seed none --rate-limit 0 --db "$file" \
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
# Serving a database applies the build's pending migrations: a build with PostgreSQL migrations
# the bench's database lacks would write to it, so it is not compared there.
not_compared="no gateway rows at $pg_db"
pg_at=$(psql "$pg_db" -Atc "SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied" 2>/dev/null || echo none)
pg_ours=$(cd "$root/db/migrations/postgres" && ls | sed -n 's/^0*\([0-9][0-9]*\)_.*/\1/p' | sort -n | tail -1)
if [ "$pg_at" != none ] && [ "$pg_at" -lt "$pg_ours" ]; then
  not_compared="$pg_db is at migration $pg_at and this build would migrate it to $pg_ours"
elif psql "$pg_db" -Atc "SELECT 1 FROM task_processing_results LIMIT 1" >/dev/null 2>&1; then
  not_compared="the gateway on $pg_db did not answer (raw/server-postgres.log)"
  "$gw" --addr "127.0.0.1:$((port + 1))" --seed none --rate-limit 0 --db "$pg_db" --db-max-open-conns 2 \
    --log-level warn > "$out/raw/server-postgres.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 1 150); do
    ask "http://127.0.0.1:$((port + 1))/graphql" q3 /dev/null && break
    kill -0 "$pg_pid" 2>/dev/null || { pg_pid=; break; }
    sleep 0.2
  done
fi
for q in q1 q2 q3 q4; do
  r="$out/responses/$q.json"
  ask "$url" "$q" "$r"
  jq -e '.errors == null and .data != null' "$r" >/dev/null || { echo "$q: GraphQL errors: $(head -c 500 "$r")" >&2; exit 1; }
  same="not compared: $not_compared"
  if [ -n "$pg_pid" ]; then
    ask "http://127.0.0.1:$((port + 1))/graphql" "$q" "$out/responses/$q-postgres.json"
    if [ "$(jq -cS . "$r")" = "$(jq -cS . "$out/responses/$q-postgres.json")" ]; then same="yes"; else same="NO"; fi
  fi
  echo "$q: $(wc -c < "$r") bytes; the same response as the gateway on PostgreSQL: $same"
done | tee "$out/responses/check.txt"
if [ -n "$pg_pid" ]; then kill "$pg_pid"; wait "$pg_pid" 2>/dev/null || true; pg_pid=; fi
! grep -q ': NO$' "$out/responses/check.txt" || { echo "the engines answer differently" >&2; exit 1; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for q in q1 q2 q3 q4; do
  CHECK_BODY=1 "$bench/load/load.sh" "$url" "$bodies/$(body "$q")" 3s 50 > "$out/raw/$q-warmup-check.txt" 2>&1
  echo "warm-up $q: $(grep -E '^requests_per_sec|^graphql_error|^non_2xx' "$out/raw/$q-warmup-check.txt" | tr '\n' ' ')"
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# rss_peak PID FILE: samples PID's resident set every 50 ms and keeps the peak (KB) in FILE, until
# killed or PID ends (this kernel may not reset VmHWM by clear_refs, so the peak of each run is
# sampled).
rss_peak() {
  exec python3 -c '
import sys, time
pid, out, peak = sys.argv[1], sys.argv[2], 0
while True:
    try:
        rss = next(int(l.split()[1]) for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        break
    if rss > peak:
        peak = rss
        open(out, "w").write(str(peak))
    time.sleep(0.05)
' "$1" "$2"
}
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# quiet: wait (at most QUIET_WAIT, 60 s) until the machine is under 0.25 cores busy over a second.
quiet_wait="${QUIET_WAIT:-60}"
quiet() {
  local b0
  for _ in $(seq 1 "$quiet_wait"); do
    b0=$(busy); sleep 1
    [ $(($(busy) - b0)) -lt 25 ] && return 0
  done
  [ "$quiet_wait" = 0 ] || echo "  machine not idle after $quiet_wait s; running anyway"
}
for q in q1 q2 q3 q4; do
  for c in $conns; do
    for r in $(seq 1 "$runs"); do
      f="$out/raw/gateway-sqlite-$q-c$c-r$r.txt"
      for attempt in 1 2 3 4; do
        quiet
        rm -f "$f.rss"; rss_peak "$pid" "$f.rss" & rpid=$!
        "$bench/load/load.sh" "$url" "$bodies/$(body "$q")" "$dur" "$c" > "$f" 2>&1 & lpid=$!
        # Sampled over the middle of the run, as the bench does.
        sleep 2; s0=$(ticks "$pid"); l0=$(ticks "$lpid"); b0=$(busy); t0=$(date +%s.%N)
        sleep "$((secs - 3))"; s1=$(ticks "$pid"); l1=$(ticks "$lpid"); b1=$(busy); t1=$(date +%s.%N)
        wait "$lpid"
        kill "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true
        echo "rss_peak_mb: $(awk '{printf "%.1f", $1 / 1024}' "$f.rss" 2>/dev/null) (server VmRSS sampled every 50 ms over the run)" >> "$f"
        rm -f "$f.rss"
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
      echo "$q c=$c r=$r: $(grep -E '^requests_per_sec|^latency_ms|^cpu_cores|^rss_peak_mb' "$f" | tr '\n' ' ')"
    done
  done
done

hwm=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
OUT="$out" FLAGS="--rate-limit 0 ${GW_EXTRA:-}" FILE="$file" MADE="$made" HWM="$hwm" LOAD0="$load0" \
  COMMIT="$(git -C "$root" describe --always --dirty 2>/dev/null || echo "not a git checkout")" python3 - <<'PY' | tee "$out/summary.md"
import glob, os, re, statistics
env, med = os.environ, statistics.median
out = env["OUT"]
names = {"q1": "Q1 dashboard", "q2": "Q2 summary", "q3": "Q3 lookup", "q4": "Q4 failed"}
runs = {}
for f in sorted(glob.glob(os.path.join(out, "raw", "gateway-sqlite-q*-c*-r*.txt"))):
    q, c = re.search(r"-(q\d)-c(\d+)-r\d+\.txt$", f).groups()
    t = open(f).read()
    rps = re.search(r"^requests_per_sec: ([\d.]+)", t, re.M)
    lat = re.search(r"^latency_ms: .*p50=([\d.]+) .*p99=([\d.]+) ", t, re.M)
    cpu = re.search(r"^cpu_cores: server=([-\d.]+) .* wrk=([-\d.]+) other=([-\d.]+)", t, re.M)
    rss = re.search(r"^rss_peak_mb: ([\d.]+)", t, re.M)
    bad = re.search(r"^non_2xx_3xx: (\d+)", t, re.M)
    if rps and lat and cpu:
        runs.setdefault((q, int(c)), []).append((float(rps[1]), float(lat[1]), float(lat[2]), float(cpu[1]), float(cpu[2]),
                                                 float(cpu[3]), float(rss[1]) if rss else float("nan"), int(bad[1]) if bad else 0))
size = os.path.getsize(env["FILE"]) / 1e9
print(f"# gateway on SQLite, the bench's rows ({env['COMMIT']})\n")
print(f"- file: {env['FILE']} ({size:.2f} GB), {env['MADE']}")
print(f"- flags: {env['FLAGS'].strip()} (otherwise the gateway's defaults)")
print(f"- machine: {os.cpu_count()} cores, load average {env['LOAD0']} before the loads\n")
print("Medians over the runs; peak RSS is the largest of the runs. server CPU ms per request = the server's")
print("CPU (user + system, from /proc, sampled mid-run) / its req/s. \"other\" is CPU used by every other process:")
print("runs above OTHER_MAX were run again, and a table with large \"other\" is not a measurement.\n")
print("| query | conns | req/s | p50 ms | p99 ms | CPU cores: server / wrk / other | server CPU ms per request | peak RSS MB | runs |")
print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
for (q, c), rs in sorted(runs.items()):
    m = [med(x[i] for x in rs) for i in range(6)]
    peak = max(x[6] for x in rs)
    errs = sum(x[7] for x in rs)
    print(f"| {names[q]} | {c} | {m[0]:,.0f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.2f} / {m[4]:.2f} / {m[5]:.2f} | "
          f"{1000 * m[3] / m[0]:.2f} | {peak:.1f} | {len(rs)}{f' ({errs} non-2xx)' if errs else ''} |")
print(f"\nThe server's peak RSS over the whole session (VmHWM, warm-ups included): {env['HWM']} MB.")
PY
rm -rf "$out/bin"
echo "results: $out"
