import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Where `npm run dev` and `npm run preview` send /graphql: the gateway of `go run .` unless
// LCW_GATEWAY_URL says otherwise. Same origin for the browser, so the gateway needs no CORS;
// ws: the subscriptions' WebSocket upgrades go the same way. The gateway accepts a browser's
// WebSocket only from its own origin or --cors-origins; the proxy is the page's origin, so it
// presents the gateway's own origin for the upgrades it forwards.
const gateway = process.env.LCW_GATEWAY_URL ?? 'http://127.0.0.1:8080';
const proxy = {
  '/graphql': {
    target: gateway,
    changeOrigin: true,
    ws: true,
    configure: (p: { on(event: 'proxyReqWs', fn: (req: { setHeader(k: string, v: string): void }) => void): void }) => {
      p.on('proxyReqWs', (req) => req.setHeader('origin', new URL(gateway).origin));
    },
  },
};

// The build ships the client preset's manifest beside the app: start the gateway with
// --persisted-only dist/persisted-documents.json and it runs this app's operations and nothing else.
function persistedDocuments(): Plugin {
  return {
    name: 'persisted-documents',
    apply: 'build',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'persisted-documents.json',
        source: readFileSync('src/gql/persisted-documents.json', 'utf8'),
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), persistedDocuments()],
  server: { proxy },
  preview: { proxy },
  // React, recharts and urql are most of the one chunk; a sample this size needs no splitting.
  build: { chunkSizeWarningLimit: 1000 },
});
