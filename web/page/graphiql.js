// Starts GraphiQL on the gateway's page (web/web.go serves it). Our own code, served from the
// gateway under its Content-Security-Policy: no inline script, no eval.
//
// The default tab runs on the gateway's data: before rendering, the page asks the endpoint for
// its first workflow and puts that id in the tab's variables. If the bundles did not load (no
// offline assets built in and no CDN reachable), it shows the instructions instead.
(function () {
  'use strict';
  var script = document.currentScript;
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint');

  if (typeof window.React === 'undefined' || typeof window.ReactDOM === 'undefined' ||
      typeof window.GraphiQL === 'undefined' || typeof window.GraphiQLPluginExplorer === 'undefined') {
    root.hidden = true;
    document.getElementById('graphiql-unavailable').hidden = false;
    return;
  }
  // react-remove-scroll (GraphiQL's dialogs) adds <style> elements with this nonce, which the
  // page's style-src allows.
  window.__webpack_nonce__ = script.nonce;

  var defaultQuery = [
    '# Ctrl+Enter runs it on this gateway\'s data.',
    '# $workflowId (Variables) is its first workflow.',
    '# The explorer (left bar) builds queries by clicks.',
    'query LatestRuns($workflowId: ID!) {',
    '  workflows(first: 5) {',
    '    totalCount',
    '    nodes { id displayName category }',
    '  }',
    '  workflow(id: $workflowId) {',
    '    displayName',
    '    runs(first: 3) {',
    '      nodes {',
    '        id',
    '        processingStatus',
    '        scheduledDateTime',
    '        totalUsersCount',
    '        failedUsersCount',
    '        taskReports {',
    '          nodes {',
    '            processingStatus',
    '            failedUsersCount',
    '            task { displayName }',
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  function firstWorkflowId() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 3000);
    return fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: 'query FirstWorkflow { workflows(first: 1) { nodes { id } } }' }),
      signal: controller.signal
    }).then(function (res) { return res.json(); })
      .then(function (body) { return body.data.workflows.nodes[0].id; })
      // With --auth jwt the page has no token yet; an empty store has no workflow.
      .catch(function () { return null; })
      .finally(function () { clearTimeout(timer); });
  }

  // Subscriptions run over WebSocket (graphql-ws, bundled in GraphiQL) on the same path; the
  // headers editor's entries become connection_init's payload, so an Authorization header there
  // authenticates the socket too.
  var url = new URL(endpoint, location.href);
  var subscriptionUrl = new URL(url.href);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  firstWorkflowId().then(function (id) {
    var variables = JSON.stringify({ workflowId: id || 'a workflow id: run { workflows { nodes { id } } }' }, null, 2);
    var props = {
      fetcher: GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href }),
      defaultEditorToolsVisibility: 'variables',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      inputValueDeprecation: true
    };
    // First visit: open on the default tab. Later, GraphiQL restores the user's own tabs (its
    // defaultTabs prop would, but GraphiQL 4 leaves their variables out of the editor).
    if (!localStorage.getItem('graphiql:tabState')) {
      props.query = defaultQuery;
      props.variables = variables;
    }
    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
  });
})();
