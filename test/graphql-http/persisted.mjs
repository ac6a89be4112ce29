// Trusted documents against a gateway started with --persisted-only MANIFEST, where MANIFEST is
// the persisted-documents.json that graphql-codegen's client preset wrote (codegen.ts). Each
// document is sent the ways clients send a hash: documentId (the client preset, GraphQL over HTTP
// appendix A) by POST and by GET, and extensions.persistedQuery.sha256Hash (Apollo's links). An
// unknown id and a document outside the manifest must be refused.
//
//   LCW_URL=http://127.0.0.1:PORT LCW_MANIFEST=persisted-documents.json node --test persisted.mjs
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'graphql';

const url = `${process.env.LCW_URL}/graphql`;
const manifest = JSON.parse(readFileSync(process.env.LCW_MANIFEST, 'utf8'));
const accept = 'application/graphql-response+json, application/json;q=0.9';

// Values for each variable by its type, so every operation executes (on an empty database).
const sample = { ID: '00000000-0000-0000-0000-000000000000', DateTime: '2024-01-01T00:00:00Z', Int: 5, String: 'x', Boolean: true };
const operationOf = (document) => parse(document).definitions.find((d) => d.kind === 'OperationDefinition');
function variablesOf(document) {
  const vars = {};
  for (const def of operationOf(document).variableDefinitions ?? []) {
    let t = def.type;
    while (t.type) t = t.type;
    if (def.type.kind === 'NonNullType') vars[def.variable.name.value] = sample[t.name.value];
  }
  return vars;
}

async function post(body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

function executed({ status, body }) {
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.ok('data' in body);
}

const entries = Object.entries(manifest);
assert.ok(entries.length > 0, 'the manifest lists no documents');

for (const [id, document] of entries) {
  const name = operationOf(document).name?.value ?? id;
  const variables = variablesOf(document);
  test(`${name}: documentId by POST`, async () => executed(await post({ documentId: id, variables })));
  test(`${name}: documentId by GET`, async () => {
    const u = new URL(url);
    u.searchParams.set('documentId', id);
    u.searchParams.set('variables', JSON.stringify(variables));
    const res = await fetch(u, { headers: { accept } });
    executed({ status: res.status, body: await res.json() });
  });
  test(`${name}: extensions.persistedQuery.sha256Hash`, async () => {
    const sha256Hash = id.replace(/^sha256:/, '');
    executed(await post({ variables, extensions: { persistedQuery: { version: 1, sha256Hash } } }));
  });
  test(`${name}: its exact text`, async () => executed(await post({ query: document, variables })));
}

test('an unknown documentId is PERSISTED_QUERY_NOT_FOUND', async () => {
  const { body } = await post({ documentId: `sha256:${'0'.repeat(64)}` });
  assert.equal(body.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(body));
  assert.equal(body.data, undefined);
});

test('a document outside the manifest is FORBIDDEN', async () => {
  const { status, body } = await post({ query: '{ workflows { nodes { id } } }' });
  assert.equal(status, 400);
  assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(body));
  assert.equal(body.data, undefined);
});
