#!/usr/bin/env bash
# Process CPU and heap allocations per request of two gateway binaries, back to back, on the
# bench's PostgreSQL rows (127.0.0.1:55432/peer, set up by ../shared/bench/run.sh): a measure
# that holds on a machine shared with other work, where req/s does not.
#
#   bench/cpu/compare.sh OLD_BINARY NEW_BINARY [QUERIES] [ROUNDS]
#     QUERIES   bench bodies, default "q1-dashboard q4-failed"
#     ROUNDS    alternations of OLD and NEW per query, default 3
#   DURATION=5s CONNS=10 PORT=7310 DB=postgres://... BENCH=DIR (default ../shared/bench)
#
# Each run starts the binary with --seed none --rate-limit 0 and a loopback pprof address, warms
# it up for 2 s, then loads it with wrk for DURATION and prints the server's user+system CPU
# (/proc/PID/stat) and runtime.MemStats.Mallocs (/debug/pprof/allocs?debug=1) divided by the
# requests served. PROFILE=DIR also keeps a CPU and an allocation profile of each run there.
set -euo pipefail
old="${1:?usage: compare.sh OLD_BINARY NEW_BINARY [QUERIES] [ROUNDS]}"
new="${2:?usage: compare.sh OLD_BINARY NEW_BINARY [QUERIES] [ROUNDS]}"
queries="${3:-q1-dashboard q4-failed}"
rounds="${4:-3}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bench="${BENCH:-$root/../shared/bench}"
dur="${DURATION:-5s}"; conns="${CONNS:-10}"; port="${PORT:-7310}"
db="${DB:-postgres://postgres@127.0.0.1:55432/peer?sslmode=disable}"
for tool in wrk curl; do command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 2; }; done
[ -f "$bench/load/post.lua" ] || { echo "the bench is absent ($bench): set BENCH" >&2; exit 2; }

measure() { # binary query
  local bin=$1 q=$2 body="$bench/peer-lcw/gateway/$2.json" pid cpu0 cpu1 m0 m1 out reqs prof="" profiler=""
  "$bin" serve --db "$db" --addr "127.0.0.1:$port" --rate-limit 0 --seed none \
    --pprof-addr "127.0.0.1:$((port + 1))" --log-level warn >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
  wrk -t2 -c"$conns" -d2s -s "$bench/load/post.lua" "http://127.0.0.1:$port/graphql" -- "$body" >/dev/null
  mallocs() { curl -s "http://127.0.0.1:$((port + 1))/debug/pprof/allocs?debug=1" | awk '/^# Mallocs = /{print $4}'; }
  m0=$(mallocs); cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  if [ -n "${PROFILE:-}" ]; then
    mkdir -p "$PROFILE"
    prof="$PROFILE/$(basename "$bin")-$q-$(date +%s)"
    curl -s -o "$prof.cpu" "http://127.0.0.1:$((port + 1))/debug/pprof/profile?seconds=${dur%s}" &
    profiler=$!
  fi
  out=$(wrk -t2 -c"$conns" -d"$dur" -s "$bench/load/post.lua" "http://127.0.0.1:$port/graphql" -- "$body")
  cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat"); m1=$(mallocs)
  # Wait for the profile only: a bare wait would wait for the server too, which never ends.
  if [ -n "$prof" ]; then wait "$profiler"; curl -s -o "$prof.allocs" "http://127.0.0.1:$((port + 1))/debug/pprof/allocs"; fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  printf '%-13s %-24s reqs=%-6s cpu_ms_per_req=%s mallocs_per_req=%s non2xx=%s load=%s\n' "$q" "$(basename "$bin")" "$reqs" \
    "$(awk -v c=$((cpu1 - cpu0)) -v t="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN{printf "%.3f", c*1000/t/n}')" \
    $(((m1 - m0) / reqs)) "$(echo "$out" | awk '/Non-2xx/{print $NF}' | grep . || echo 0)" "$(cut -d' ' -f1 /proc/loadavg)"
}
for q in $queries; do
  for _ in $(seq "$rounds"); do measure "$old" "$q"; measure "$new" "$q"; done
done
