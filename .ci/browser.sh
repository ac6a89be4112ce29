#!/usr/bin/env bash
# Browser test: GraphiQL at / of the real gateway, in Debian's chromium driven by playwright-core,
# with no request leaving localhost: its default tab runs on the demo data, its Content-Security-
# Policy holds (any violation fails), /?cdn works from the pinned jsDelivr files (answered from
# web/node_modules) and shows the instructions when jsDelivr is unreachable, and every page carries
# the security headers, and a subscription run in GraphiQL (over WebSocket) shows the event of a
# report that `lcw-gateway import`, run as another process, added (web/e2e/graphiql.mjs). Leaves a
# screenshot (LCW_SCREENSHOT, default
# web/e2e/out/graphiql.png).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$LCW_ROOT"

if [ ! -x /usr/bin/chromium ]; then
  lcw_step "installing Debian's chromium"
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

lcw_step "go generate ./web (GraphiQL bundles from npm)"
go generate ./web
lcw_step "npm ci web/e2e"
lcw_npm_ci web/e2e

lcw_step "gateway"
lcw_start

lcw_step "GraphiQL in chromium"
export LCW_SCREENSHOT="${LCW_SCREENSHOT:-$LCW_ROOT/web/e2e/out/graphiql.png}"
# The gateway seeds demo data on start: an empty answer means something broke.
export LCW_E2E_REQUIRE_DATA=1
# The subscription step imports the docs fixture into the gateway's database as another process.
LCW_BIN="$LCW_TMP/lcw-gateway" LCW_DB="${LCW_CI_DB:-$LCW_TMP/lcw.db}" LCW_FIXTURE="$LCW_ROOT/testdata/fixtures/msgraph-docs-example" \
  CHROMIUM=/usr/bin/chromium node web/e2e/graphiql.mjs
echo "screenshot: $LCW_SCREENSHOT"
