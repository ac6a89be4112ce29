#!/usr/bin/env bash
# Subscriptions through real clients (test/live/live.test.mjs): graphql-ws over WebSocket and
# graphql-sse against the real gateway on a SQLite file, while `lcw-gateway import` writes that
# file as another process; the gateway notices by tailing the change feed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lcw_step "npm ci test/live"
lcw_npm_ci test/live

lcw_step "gateway"
LCW_CI_DB="$(mktemp -d)/live.db"
export LCW_CI_DB
lcw_start --seed none

lcw_step "graphql-ws and graphql-sse clients"
LCW_DB="$LCW_CI_DB" LCW_BIN="$LCW_TMP/lcw-gateway" LCW_FIXTURE="$LCW_ROOT/testdata/fixtures/msgraph-docs-example" \
  node --test --test-reporter=spec "$LCW_ROOT/test/live/live.test.mjs"
