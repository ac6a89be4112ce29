#!/usr/bin/env bash
# GraphQL over HTTP conformance, against the real gateway (a fresh SQLite file, --seed none):
# - graphql-http's server audits (test/graphql-http/audit.mjs): counts of pass/warn/notice/fail,
#   and a non-zero exit when a MUST audit fails (docs/graphql-over-http.md lists our choices);
# - trusted documents: graphql-codegen's client preset writes persisted-documents.json from
#   examples/operations, a gateway started with --persisted-only runs exactly those documents
#   (test/graphql-http/persisted.mjs).
# --rate-limit 0: the audit sends its ~60 requests at once from one anonymous principal, more than
# the default burst; the limiter has its own tests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$LCW_ROOT/test/graphql-http"

lcw_step "npm ci test/graphql-http"
lcw_npm_ci test/graphql-http

lcw_step "gateway"
lcw_start --seed none --rate-limit 0

lcw_step "graphql-http server audits"
node audit.mjs
lcw_stop

lcw_step "persisted documents from graphql-codegen's client preset"
# Under node_modules: ignored by git, and gone at the next npm ci.
manifest_dir="$LCW_ROOT/test/graphql-http/node_modules/.persisted-documents"
rm -rf "$manifest_dir"
LCW_PERSISTED_OUT="$manifest_dir" npx --no-install graphql-codegen --config codegen.ts --silent
echo "manifest: $(node -e 'console.log(Object.keys(require(process.argv[1])).length)' "$manifest_dir/persisted-documents.json") documents"

lcw_step "gateway --persisted-only"
lcw_start --seed none --rate-limit 0 --persisted-only "$manifest_dir/persisted-documents.json"
LCW_MANIFEST="$manifest_dir/persisted-documents.json" node --test --test-reporter=spec persisted.mjs
