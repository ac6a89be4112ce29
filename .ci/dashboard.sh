#!/usr/bin/env bash
# The sample dashboard (examples/dashboard) in Debian's chromium, driven by playwright-core, against
# the real gateway on a temporary SQLite file with demo data:
# - typed documents from schema/*.graphqls and from the running gateway's introspection are the same;
# - in both runs below, the run page updates live: `lcw-gateway import`, run as another process on
#   the gateway's database, changes a report of the open run and the table shows it without a reload
#   (graphql-ws through Vite's proxy in dev; persisted by id to the other origin in the build);
# - `npm run dev` (Vite's proxy for /graphql): the workflow list, a run's failed users, the chart,
#   no request leaving localhost; a screenshot (LCW_DASHBOARD_SCREENSHOT, default docs/dashboard.png);
# - `npm run build`, served by `vite preview` on another origin than the gateway's (VITE_GRAPHQL_URL,
#   --cors-origins), against a gateway started with --persisted-only and the build's manifest: the
#   same checks, every request goes to the gateway's origin, and none carries query text.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$LCW_ROOT/examples/dashboard"
started=$SECONDS
# step: lcw_step with the seconds since the script started, so slow steps show in the CI log.
step() { lcw_step "$* [+$((SECONDS - started))s]"; }

if [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium"
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

step "npm ci examples/dashboard"
lcw_npm_ci examples/dashboard

# vite_start MODE [PORT]: `vite MODE` (dev or preview) on a loopback port, /graphql proxied to the
# gateway; exports DASHBOARD_URL. Without PORT, Vite takes the first free one from 5173 and logs it.
VITE_PID=
vite_start() {
  local log="$LCW_TMP/vite.log" args=()
  [ "$1" = dev ] || args=("$1")
  if [ -n "${2:-}" ]; then args+=(--port "$2" --strictPort); else args+=(--port 5173); fi
  LCW_GATEWAY_URL="$LCW_URL" node_modules/.bin/vite "${args[@]}" --host 127.0.0.1 >"$log" 2>&1 &
  VITE_PID=$!
  DASHBOARD_URL=
  for _ in $(seq 300); do
    kill -0 "$VITE_PID" 2>/dev/null || { cat "$log" >&2; echo "vite $1 exited" >&2; return 1; }
    DASHBOARD_URL=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -m1 -oE 'http://127\.0\.0\.1:[0-9]+' || true)
    [ -n "$DASHBOARD_URL" ] && break
    sleep 0.2
  done
  [ -n "$DASHBOARD_URL" ] || { cat "$log" >&2; echo "vite $1 did not start" >&2; return 1; }
  export DASHBOARD_URL
  echo "dashboard ($1): $DASHBOARD_URL"
}
vite_stop() {
  if [ -n "$VITE_PID" ]; then
    kill "$VITE_PID" 2>/dev/null || true
    wait "$VITE_PID" 2>/dev/null || true
    VITE_PID=
  fi
}

step "gateway"
lcw_start
trap 'rc=$?; vite_stop; (exit $rc); lcw_stop' EXIT

step "typed documents: from schema/*.graphqls and from $LCW_URL/graphql"
rm -rf src/gql src/gql-live
LCW_GRAPHQL_URL="$LCW_URL/graphql" npx --no-install graphql-codegen --config codegen.ts --silent
npm run --silent check:live

# live_env: what the live step of e2e/dashboard.mjs needs to import into the running gateway's database.
live_env() {
  export LCW_BIN="$LCW_TMP/lcw-gateway" LCW_DB="${LCW_CI_DB:-$LCW_TMP/lcw.db}" \
    LCW_FIXTURE="$LCW_ROOT/testdata/fixtures/msgraph-docs-example"
}

step "npm run dev, in chromium"
vite_start dev
live_env
LCW_DASHBOARD_URL="$DASHBOARD_URL" LCW_SCREENSHOT="${LCW_DASHBOARD_SCREENSHOT:-$LCW_ROOT/docs/dashboard.png}" \
  node e2e/dashboard.mjs
vite_stop

step "gateway --persisted-only (the client preset's manifest), --cors-origins (the dashboard's origin)"
manifest="$PWD/src/gql/persisted-documents.json"
echo "manifest: $(node -e 'console.log(Object.keys(require(process.argv[1])).length)' "$manifest") documents"
# The origin the build is served from, chosen first so the gateway can allow it.
preview_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
lcw_stop
lcw_start --persisted-only "$manifest" --cors-origins "http://127.0.0.1:$preview_port"
trap 'rc=$?; vite_stop; (exit $rc); lcw_stop' EXIT

step "npm run build (tsc, vite build) for a gateway on another origin"
VITE_GRAPHQL_URL="$LCW_URL/graphql" npm run --silent build
cmp dist/persisted-documents.json "$manifest"
echo "dist/persisted-documents.json is the manifest the gateway runs"

step "the build (vite preview on :$preview_port), in chromium"
vite_start preview "$preview_port"
live_env
LCW_DASHBOARD_URL="$DASHBOARD_URL" LCW_PERSISTED=1 LCW_GRAPHQL_ORIGIN="$LCW_URL" node e2e/dashboard.mjs
vite_stop
echo "dashboard CI: $((SECONDS - started))s"
