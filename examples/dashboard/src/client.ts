// The one GraphQL client: urql with graphcache, a normalized cache that merges Relay pages, and
// subscriptions over graphql-ws on the same /graphql (their events update the cached objects, so
// a page showing them changes by itself).
import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { persistedExchange } from '@urql/exchange-persisted';
import type { DocumentNode } from 'graphql';
import * as documents from './gql/graphql';

// An embedded object: graphcache keeps it inside its parent instead of by id.
const embedded = () => null;

const cache = cacheExchange({
  keys: {
    PageInfo: embedded,
    WorkflowConnection: embedded,
    RunConnection: embedded,
    TaskReportConnection: embedded,
    TaskProcessingResultConnection: embedded,
    WorkflowEdge: embedded,
    TaskProcessingResultEdge: embedded,
    TaskReportSummary: embedded,
    TaskReportStats: embedded,
    RunSummary: embedded,
    UserSummary: embedded,
  },
  resolvers: {
    // "Load more" asks for the next page (first/after); relayPagination appends it to the pages
    // already in the cache, so the list grows instead of being replaced.
    Query: {
      workflows: relayPagination(),
      taskProcessingResults: relayPagination(),
    },
    Workflow: { runs: relayPagination() },
  },
});

// A production build sends only the client preset's document hash: a gateway started with
// --persisted-only dist/persisted-documents.json runs exactly these documents. `npm run dev`
// sends the document text, so it works against any gateway.
//
// The hash is the one the client preset embedded in each document (__meta__.hash, the manifest's
// id), found by operation name: the exchanges see graphcache's copy of the document, which keeps
// the operation but not __meta__.
const operationName = (doc: DocumentNode) =>
  doc.definitions.find((d) => d.kind === 'OperationDefinition')?.name?.value;
const hashes = new Map<string, string>();
for (const doc of Object.values(documents) as (DocumentNode & { __meta__?: { hash: string } })[]) {
  const name = doc?.definitions && operationName(doc);
  if (name && doc.__meta__) hashes.set(name, doc.__meta__.hash);
}
const persisted = persistedExchange({
  enforcePersistedQueries: true,
  // Subscriptions too: the gateway's --persisted-only runs a subscription by its manifest id.
  enableForSubscriptions: true,
  generateHash: async (_, document) => {
    const hash = hashes.get(operationName(document) ?? '');
    if (!hash) throw new Error(`no persisted document for operation ${operationName(document)}: run npm run codegen`);
    return hash;
  },
});

// The WebSocket of url (http → ws, https → wss), resolved against the page for a relative url
// (Vite's proxy in development forwards the upgrade to the gateway).
function socketURL(url: string): string {
  const u = new URL(url, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

// One socket for every subscription of the page, opened at the first and closed a little after
// the last; with --auth jwt, connectionParams would carry { Authorization: 'Bearer …' }.
function live(url: string) {
  const ws = createWsClient({ url: socketURL(url), lazyCloseTimeout: 3000 });
  return subscriptionExchange({
    forwardSubscription(request) {
      // A persisted subscription has no text: the gateway takes it from its manifest by id.
      const input = { ...request, query: request.query || '' };
      return {
        subscribe(sink) {
          return { unsubscribe: ws.subscribe(input, sink) };
        },
      };
    },
  });
}

export function makeClient(options: { url: string; fetch?: typeof fetch }): Client {
  const subscriptions = live(options.url);
  return new Client({
    url: options.url,
    fetch: options.fetch,
    exchanges: import.meta.env.PROD
      ? [cache, persisted, fetchExchange, subscriptions]
      : [cache, fetchExchange, subscriptions],
    // The gateway's own media type first (GraphQL over HTTP).
    fetchOptions: { headers: { accept: 'application/graphql-response+json, application/json;q=0.9' } },
    requestPolicy: 'cache-and-network',
  });
}
