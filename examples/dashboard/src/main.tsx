import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { HashRouter, Route, Routes } from 'react-router';
import { Provider } from 'urql';
import { makeClient } from './client';
import { Layout } from './Layout';
import { WorkflowsPage } from './pages/Workflows';
import { WorkflowPage } from './pages/Workflow';
import { RunPage } from './pages/Run';
import './styles.css';

// /graphql of this origin: Vite's proxy in dev and preview, or the gateway itself when it serves
// the app; VITE_GRAPHQL_URL for a gateway elsewhere (it must list this origin in --cors-origins).
const url = new URL(import.meta.env.VITE_GRAPHQL_URL ?? '/graphql', window.location.href).href;

// MSAL's code is loaded only for --auth jwt (VITE_MSAL_CLIENT_ID set at build time).
const authorizedFetch = import.meta.env.VITE_MSAL_CLIENT_ID ? (await import('./auth')).authorizedFetch : undefined;
const client = makeClient({ url, fetch: authorizedFetch });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider value={client}>
      {/* Hash routes: any static server (or vite preview) serves the app without rewrites. */}
      <HashRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<WorkflowsPage />} />
            <Route path="workflows/:id" element={<WorkflowPage />} />
            <Route path="runs/:id" element={<RunPage />} />
          </Route>
        </Routes>
      </HashRouter>
    </Provider>
  </StrictMode>,
);
