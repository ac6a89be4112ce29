#!/usr/bin/env bash
# The sample dashboard (examples/dashboard) in Debian's chromium, driven by playwright-core, against
# the real gateway on a temporary SQLite file with demo data:
# - typed documents from schema/*.graphqls and from the running gateway's introspection are the same;
# - `npm run dev` (Vite's proxy for /graphql): the workflow list, a run's failed users, the chart,
#   no request leaving localhost; a screenshot (LCW_DASHBOARD_SCREENSHOT, default docs/dashboard.png);
# - `npm run build` served by `vite preview`, against a gateway started with
#   --persisted-only dist/persisted-documents.json: the same checks, and no request carries query text.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$LCW_ROOT/examples/dashboard"
started=$SECONDS

if [ ! -x /usr/bin/chromium ]; then
  lcw_step "installing Debian's chromium"
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

lcw_step "npm ci examples/dashboard"
lcw_npm_ci examples/dashboard

# vite_start MODE: `vite MODE` (dev or preview) on a free loopback port, /graphql proxied to the
# gateway; exports DASHBOARD_URL.
VITE_PID=
vite_start() {
  local log="$LCW_TMP/vite.log" args=()
  [ "$1" = dev ] || args=("$1")
  # Port 0 is not Vite's to take; it moves to the next free port from 5173 and logs the one it took.
  LCW_GATEWAY_URL="$LCW_URL" node_modules/.bin/vite "${args[@]}" --host 127.0.0.1 --port 5173 >"$log" 2>&1 &
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

lcw_step "gateway"
lcw_start
trap 'rc=$?; vite_stop; (exit $rc); lcw_stop' EXIT

lcw_step "typed documents: from schema/*.graphqls and from $LCW_URL/graphql"
rm -rf src/gql src/gql-live
LCW_GRAPHQL_URL="$LCW_URL/graphql" npx --no-install graphql-codegen --config codegen.ts --silent
npm run --silent check:live

lcw_step "npm run dev, in chromium"
vite_start dev
LCW_DASHBOARD_URL="$DASHBOARD_URL" LCW_SCREENSHOT="${LCW_DASHBOARD_SCREENSHOT:-$LCW_ROOT/docs/dashboard.png}" \
  node e2e/dashboard.mjs
vite_stop

lcw_step "npm run build (tsc, persisted-documents manifest)"
npm run --silent build
manifest="$PWD/dist/persisted-documents.json"
echo "manifest: $(node -e 'console.log(Object.keys(require(process.argv[1])).length)' "$manifest") documents"
lcw_stop

lcw_step "gateway --persisted-only dist/persisted-documents.json"
lcw_start --persisted-only "$manifest"
trap 'rc=$?; vite_stop; (exit $rc); lcw_stop' EXIT

lcw_step "npm run preview (the build), in chromium"
vite_start preview
LCW_DASHBOARD_URL="$DASHBOARD_URL" LCW_PERSISTED=1 node e2e/dashboard.mjs
vite_stop
echo "dashboard CI: $((SECONDS - started))s"
