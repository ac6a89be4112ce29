import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Where `npm run dev` and `npm run preview` send /graphql: the gateway of `go run .` unless
// LCW_GATEWAY_URL says otherwise. Same origin for the browser, so the gateway needs no CORS.
const gateway = process.env.LCW_GATEWAY_URL ?? 'http://127.0.0.1:8080';
const proxy = { '/graphql': { target: gateway, changeOrigin: true } };

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
