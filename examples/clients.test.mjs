// Real clients against a running gateway: Apollo Client (core, no React) and urql, each with its
// normal cache. Every answer must equal what /graphql itself returns for the same operation
// (less the __typename both clients add), and errors must reach them with their extensions.code.
//
//   LCW_URL=http://127.0.0.1:8080 node --test clients.test.mjs
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Client, cacheExchange, fetchExchange } from '@urql/core';

const base = (process.env.LCW_URL ?? '').replace(/\/+$/, '');
if (!base) throw new Error('set LCW_URL to a running gateway, e.g. http://127.0.0.1:8080');
const endpoint = `${base}/graphql`;

const apollo = new ApolloClient({ link: new HttpLink({ uri: endpoint }), cache: new InMemoryCache() });
const urql = new Client({ url: endpoint, exchanges: [cacheExchange, fetchExchange] });
after(() => apollo.stop());

const clients = {
  'Apollo Client': async (query, variables) => (await apollo.query({ query: gql(query), variables })).data,
  urql: async (query, variables) => {
    const res = await urql.query(query, variables).toPromise();
    if (res.error) throw res.error;
    return res.data;
  },
};

async function direct(query, variables) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// Both clients add __typename to every selection for their caches.
function withoutTypename(value) {
  if (Array.isArray(value)) return value.map(withoutTypename);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '__typename')
      .map(([k, v]) => [k, withoutTypename(v)]));
  }
  return value;
}

const catalogue = `query Catalogue {
  workflows(first: 5) { totalCount nodes { id displayName category isEnabled createdDateTime } }
  taskDefinitions { totalCount nodes { id displayName category version parameters { name valueType } } }
}`;

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const utc = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

for (const [name, run] of Object.entries(clients)) {
  test(`${name}: workflows and task definitions`, { timeout: 30_000 }, async () => {
    const data = await run(catalogue, {});
    const { workflows, taskDefinitions } = data;
    assert.ok(Number.isInteger(workflows.totalCount) && workflows.totalCount >= workflows.nodes.length);
    assert.ok(workflows.nodes.length <= 5);
    for (const w of workflows.nodes) {
      assert.match(w.id, guid);
      assert.equal(typeof w.displayName, 'string');
      assert.ok(['joiner', 'leaver', 'mover', 'unknownFutureValue'].includes(w.category), w.category);
      assert.equal(typeof w.isEnabled, 'boolean');
      if (w.createdDateTime !== null) assert.match(w.createdDateTime, utc);
    }
    assert.ok(Number.isInteger(taskDefinitions.totalCount));
    for (const d of taskDefinitions.nodes) {
      assert.match(d.id, guid);
      assert.ok(Array.isArray(d.category) && Array.isArray(d.parameters));
    }
    assert.deepEqual(withoutTypename(data), await direct(catalogue, {}));
  });
}

// The operations of examples/operations, with variables for the first workflow (an unknown id when
// the database is empty, which must answer null rather than fail).
const operationsDir = new URL('./operations/', import.meta.url);
const operations = await Promise.all((await readdir(operationsDir)).filter((f) => f.endsWith('.graphql'))
  .map(async (f) => ({ file: f, text: await readFile(new URL(f, operationsDir), 'utf8') })));
const first = (await direct('{ workflows(first: 1) { nodes { id } } }', {})).workflows.nodes[0];
const now = new Date();
const variables = {
  workflowId: first?.id ?? '00000000-0000-4000-8000-000000000000',
  since: '2000-01-01T00:00:00Z',
  start: '2000-01-01T00:00:00Z',
  end: now.toISOString(),
};

for (const { file, text } of operations) {
  for (const [name, run] of Object.entries(clients)) {
    test(`${name}: operations/${file}`, { timeout: 30_000 }, async (t) => {
      if (!first) t.diagnostic('no workflows in the database: ran with an unknown workflow id');
      // Send only the variables the operation declares, as a client would.
      const vars = Object.fromEntries(Object.entries(variables).filter(([k]) => text.includes(`$${k}:`)));
      const data = await run(text, vars);
      assert.deepEqual(withoutTypename(data), await direct(text, vars));
    });
  }
}

// An argument error must reach both clients with its code.
const tooLarge = 'query TooLarge($first: Int) { workflows(first: $first) { totalCount } }';
const tooLargeVars = { first: 501 };

test('Apollo Client: a page above the maximum is BAD_USER_INPUT', { timeout: 30_000 }, async () => {
  await assert.rejects(apollo.query({ query: gql(tooLarge), variables: tooLargeVars }), (err) => {
    assert.ok(CombinedGraphQLErrors.is(err), String(err));
    assert.equal(err.errors[0].extensions?.code, 'BAD_USER_INPUT');
    return true;
  });
});

test('urql: a page above the maximum is BAD_USER_INPUT', { timeout: 30_000 }, async () => {
  const res = await urql.query(tooLarge, tooLargeVars).toPromise();
  assert.ok(res.error, 'no error');
  assert.equal(res.error.graphQLErrors[0]?.extensions?.code, 'BAD_USER_INPUT');
});
