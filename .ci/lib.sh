# shellcheck shell=bash
# Sourced by .ci/browser.sh, .ci/codegen.sh and .ci/clients.sh: npm installs, and the real gateway
# built and started on a temporary SQLite file and a free loopback port.
#
#   lcw_start [serve flags...]   builds and starts it; exports LCW_URL (http://127.0.0.1:PORT).
#                                LCW_CI_DB, if set, is the database instead of a fresh SQLite file.
#   lcw_stop                     stops it (also runs on exit; prints its log if the script failed)

LCW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"

lcw_step() { printf '\n-- %s --\n' "$*"; }

# lcw_npm_ci DIR: install DIR's locked packages; scripts are not needed by any of them.
lcw_npm_ci() {
  (cd "$LCW_ROOT/$1" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

lcw_start() {
  LCW_TMP=$(mktemp -d)
  (cd "$LCW_ROOT" && go build -o "$LCW_TMP/lcw-gateway" .)
  # Port 0: the kernel picks a free port and the "serving" log line names it, so nothing races.
  "$LCW_TMP/lcw-gateway" serve --addr 127.0.0.1:0 --db "${LCW_CI_DB:-$LCW_TMP/lcw.db}" --seed demo "$@" \
    >"$LCW_TMP/server.log" 2>&1 &
  LCW_PID=$!
  trap lcw_stop EXIT
  local deadline=$((SECONDS + ${LCW_START_TIMEOUT:-300}))
  LCW_URL=
  while [ -z "$LCW_URL" ]; do
    if ! kill -0 "$LCW_PID" 2>/dev/null; then
      echo "the gateway exited before serving" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the gateway did not start serving in ${LCW_START_TIMEOUT:-300}s" >&2
      return 1
    fi
    sleep 0.2
    LCW_URL=$(grep -m1 'serving' "$LCW_TMP/server.log" | grep -oE 'http://127\.0\.0\.1:[0-9]+' || true)
  done
  export LCW_URL
  # curl may be missing on a fresh machine; Node is not.
  node -e '
    const [url, end] = [process.argv[1], Date.now() + 60000];
    (async () => {
      for (;;) {
        try { if ((await fetch(url)).ok) return; } catch {}
        if (Date.now() > end) { console.error(`${url} not ready in 60s`); process.exit(1); }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();' "$LCW_URL/readyz"
  echo "gateway: $LCW_URL (pid $LCW_PID, db ${LCW_CI_DB:-$LCW_TMP/lcw.db})"
}

lcw_stop() {
  local rc=$?
  if [ -n "${LCW_PID:-}" ]; then
    kill -TERM "$LCW_PID" 2>/dev/null || true
    wait "$LCW_PID" 2>/dev/null || true
    LCW_PID=
  fi
  if [ -n "${LCW_TMP:-}" ] && [ -d "$LCW_TMP" ]; then
    if [ "$rc" -ne 0 ] && [ -f "$LCW_TMP/server.log" ]; then
      echo "--- gateway log (last 40 lines) ---" >&2
      tail -n 40 "$LCW_TMP/server.log" >&2
    fi
    rm -rf "$LCW_TMP"
  fi
  LCW_TMP=
  return "$rc"
}
