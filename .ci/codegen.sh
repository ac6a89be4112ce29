#!/usr/bin/env bash
# Codegen and real clients, against the real gateway:
# - GraphQL Code Generator (typescript + typescript-operations) turns examples/operations/*.graphql
#   into types twice, from schema/*.graphqls and from the running gateway's introspection;
# - both sets are the same and examples/src compiles against each under tsc --strict --noEmit;
# - Apollo Client and urql query the gateway (examples/clients.test.mjs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$LCW_ROOT/examples"

lcw_step "npm ci examples"
lcw_npm_ci examples

lcw_step "gateway"
lcw_start

lcw_step "graphql-codegen: from schema/*.graphqls and from $LCW_URL/graphql"
rm -rf generated
LCW_GRAPHQL_URL="$LCW_URL/graphql" npx --no-install graphql-codegen --config codegen.ts
node compare-generated.mjs

lcw_step "tsc --strict --noEmit (types from the schema files, then from introspection)"
npx --no-install tsc -p tsconfig.json --strict --noEmit
npx --no-install tsc -p tsconfig.live.json --strict --noEmit
echo "examples/src compiles against both"

lcw_step "Apollo Client and urql against the gateway"
node --test --test-reporter=spec clients.test.mjs
