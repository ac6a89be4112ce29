// Browser test of GraphiQL at / of a running gateway, in Debian's chromium driven by playwright-core.
// It starts nothing: give it the gateway's URL.
//
//   LCW_URL=http://127.0.0.1:8080 node graphiql.mjs
//
// It opens /, checks that the default tab holds a query over the gateway's data with the id of a
// workflow the store holds, runs it as it is, and checks the result GraphiQL shows against the
// same request sent straight to /graphql; opens the explorer plugin, saves a screenshot
// (LCW_SCREENSHOT, default out/graphiql.png); then types a task-report query and runs it; then runs
// a subscription over WebSocket, has `lcw-gateway import` (LCW_BIN, on LCW_DB, of LCW_FIXTURE)
// change the store as another process, and sees the event in the result pane. Then the
// CDN page (/?cdn): with jsDelivr answered from web/node_modules (the same bytes, so the SRI hashes
// hold) GraphiQL runs; with jsDelivr unreachable the page shows the instructions. It fails on any
// request to a host other than localhost (but the CDN page's, which the test answers or refuses
// itself), on any Content-Security-Policy violation or console error, on any uncaught page error,
// on missing security headers, and on an empty result when LCW_E2E_REQUIRE_DATA=1.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = (process.env.LCW_URL ?? process.argv[2] ?? '').replace(/\/+$/, '');
if (!base) fail('usage: LCW_URL=http://127.0.0.1:PORT node graphiql.mjs');
const screenshot = path.resolve(process.env.LCW_SCREENSHOT ?? path.join(here, 'out', 'graphiql.png'));
const requireData = process.env.LCW_E2E_REQUIRE_DATA === '1';

const query = `query RecentTaskReports {
  taskReports(first: 5) {
    totalCount
    nodes {
      processingStatus
      successfulUsersCount
      failedUsersCount
      totalUsersCount
      task { displayName }
      taskDefinition { displayName category }
    }
  }
}
`;

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
const outside = [];
const pageErrors = [];
const consoleErrors = [];
const violations = [];
// jsDelivr, as the CDN page loads it: in the 'cdn' phase answered from web/node_modules, in the
// others refused (and, but in the 'offline' phase, a failure).
const cdnHost = 'cdn.jsdelivr.net';
let phase = 'local';

function fail(message) {
  if (outside.length) message += `\nrequests to other hosts (blocked): ${[...new Set(outside)].join(', ')}`;
  console.error(`browser test: FAIL: ${message}`);
  process.exit(1);
}

function isOutside(url) {
  const u = new URL(url);
  // data:, blob: and about: stay inside the page.
  return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && !localHosts.has(u.hostname);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // Without the background-networking flags chromium phones Google at start; we want to see only
  // what the page asks for. playwright adds --headless and a fresh profile itself.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await (await newContext()).newPage();
  watch(page);
  const res = await page.goto(`${base}/`);
  if (!res?.ok()) fail(`GET / answered ${res?.status()}`);
  checkHeaders('/', res.headers(), true);
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor({ timeout: 20_000 }).catch(async () => {
    await page.screenshot({ path: screenshot }).catch(() => {});
    fail(`GraphiQL did not render (still "Loading…"?); page errors: ${pageErrors.join('; ') || 'none'}`);
  });

  // The default tab: a query over the gateway's data, with the id of a workflow the store holds.
  const defaultQuery = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  const variablesEditor = page.locator('.graphiql-editor-tool .CodeMirror').first();
  const defaultVariables = JSON.parse(await variablesEditor.evaluate((el) => el.CodeMirror.getValue()));
  if (!/query LatestRuns\(\$workflowId: ID!\)/.test(defaultQuery)) fail(`default tab holds:\n${defaultQuery}`);
  const firstWorkflow = await gql('{ workflows(first: 1) { nodes { id } } }');
  const workflowId = firstWorkflow.data.workflows.nodes[0]?.id;
  if (requireData && defaultVariables.workflowId !== workflowId) {
    fail(`default variables ${JSON.stringify(defaultVariables)}, want the first workflow ${workflowId}`);
  }
  const latest = await run('LatestRuns', page);
  if (latest.errors) fail(`the default tab's query answers errors: ${JSON.stringify(latest.errors)}`);
  const direct0 = await gql(defaultQuery, defaultVariables);
  if (JSON.stringify(direct0) !== JSON.stringify(latest)) fail(`GraphiQL shows\n${JSON.stringify(latest)}\nbut /graphql answers\n${JSON.stringify(direct0)}`);
  if (requireData && !(latest.data.workflow?.runs.nodes.length > 0)) fail(`the default query found no runs: ${JSON.stringify(latest)}`);

  // The explorer plugin builds queries by clicking; it must load offline too.
  await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
  await page.locator('.graphiql-plugin').getByText('taskReports', { exact: true }).first()
    .waitFor({ timeout: 10_000 }).catch(() => fail('the explorer plugin did not list the schema\'s fields'));
  await mkdir(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });

  // Type a query in a new tab, as a user would.
  await page.getByRole('button', { name: 'New tab' }).click();
  await queryEditor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  // insertText types it as one input event, so CodeMirror's auto-closed brackets and indents do
  // not double what we type.
  await page.keyboard.insertText(query);
  const typed = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  if (typed.trim() !== query.trim()) fail(`query editor holds:\n${typed}`);
  await parsed(page, 'RecentTaskReports');

  const shown = await run('RecentTaskReports', page);
  if (shown.errors) fail(`GraphiQL shows errors: ${JSON.stringify(shown.errors)}`);
  const reports = shown.data?.taskReports;
  if (!Number.isInteger(reports?.totalCount) || !Array.isArray(reports?.nodes)) {
    fail(`unexpected result shape: ${JSON.stringify(shown)}`);
  }
  for (const n of reports.nodes) {
    if (n.successfulUsersCount + n.failedUsersCount > n.totalUsersCount || !n.task?.displayName
      || !Array.isArray(n.taskDefinition?.category)) {
      fail(`odd task report: ${JSON.stringify(n)}`);
    }
  }
  const direct = await gql(query);
  if (JSON.stringify(direct) !== JSON.stringify(shown)) {
    fail(`GraphiQL shows\n${JSON.stringify(shown)}\nbut /graphql answers\n${JSON.stringify(direct)}`);
  }
  if (reports.totalCount === 0) {
    const msg = 'the database holds no task reports, so the screenshot shows an empty list';
    if (requireData) fail(msg);
    console.warn(`browser test: warning: ${msg}`);
  }

  await subscription(page);

  // A dialog: GraphiQL adds a <style> element for it, which the page's nonce must admit.
  await page.getByRole('button', { name: 'Open settings dialog' }).click();
  await page.getByRole('dialog').waitFor({ timeout: 5_000 }).catch(() => fail('the settings dialog did not open'));
  await page.keyboard.press('Escape');
  checkClean('/');
  console.log(`browser test: ok: GraphiQL opened on LatestRuns for workflow ${defaultVariables.workflowId} and ran it, `
    + `ran RecentTaskReports (${reports.totalCount} task reports, ${reports.nodes.length} shown), no CSP violation, `
    + `no request left localhost; screenshot ${screenshot}`);

  // The CDN page, with jsDelivr reachable (answered with npm's files): GraphiQL under its policy.
  phase = 'cdn';
  const cdnPage = await (await newContext()).newPage();
  watch(cdnPage);
  const cdnRes = await cdnPage.goto(`${base}/?cdn`);
  checkHeaders('/?cdn', cdnRes.headers(), true);
  if (!(cdnRes.headers()['content-security-policy'] ?? '').includes(`https://${cdnHost}/npm/graphiql@`)) {
    fail(`/?cdn policy does not name the CDN's files: ${cdnRes.headers()['content-security-policy']}`);
  }
  await cdnPage.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 20_000 })
    .catch(() => fail('GraphiQL did not render from the CDN'));
  const fromCdn = await run('LatestRuns', cdnPage);
  if (fromCdn.errors) fail(`the CDN page's default tab answers errors: ${JSON.stringify(fromCdn.errors)}`);
  checkClean('/?cdn');

  // The CDN page, with jsDelivr unreachable: the instructions, and the gateway still serves.
  phase = 'offline';
  const offline = await (await newContext()).newPage();
  watch(offline);
  await offline.goto(`${base}/?cdn`);
  await offline.getByRole('heading', { name: 'GraphiQL could not load' }).waitFor({ timeout: 20_000 })
    .catch(() => fail('the CDN page without a CDN does not show the instructions'));
  checkClean('/?cdn without a CDN', { cdnRefusedOk: true });

  // Error pages carry the headers too.
  for (const [p, status] of [['/nowhere', 404], ['/assets/nothing.js', 404]]) {
    const r = await fetch(`${base}${p}`);
    if (r.status !== status) fail(`GET ${p} answered ${r.status}, want ${status}`);
    checkHeaders(p, Object.fromEntries(r.headers), false);
  }
  console.log('browser test: ok: /?cdn runs GraphiQL from the pinned CDN files under its policy and shows the '
    + 'instructions without a CDN; /, /?cdn and error pages carry the security headers');
} finally {
  await browser.close();
}

// subscription runs a subscription in a new tab: GraphiQL's fetcher opens a graphql-ws socket to
// /graphql (under the page's connect-src); an import by another process then changes reports, and
// the result pane shows the event.
async function subscription(p) {
  const { LCW_BIN, LCW_DB, LCW_FIXTURE } = process.env;
  if (!LCW_BIN || !LCW_DB || !LCW_FIXTURE) {
    console.warn('browser test: warning: LCW_BIN, LCW_DB or LCW_FIXTURE unset: the subscription is not tried');
    return;
  }
  const sub = 'subscription LiveReports {\n  taskReportChanged {\n    cursor\n    taskReport { id processingStatus task { displayName } }\n  }\n}\n';
  await p.getByRole('button', { name: 'New tab' }).click();
  const editor = p.locator('.graphiql-query-editor .CodeMirror');
  await editor.click();
  await p.keyboard.press('ControlOrMeta+A');
  await p.keyboard.press('Backspace');
  await p.keyboard.insertText(sub);
  await parsed(p, 'LiveReports');
  const socket = p.waitForEvent('websocket', { timeout: 10_000 }).catch(() => fail('GraphiQL opened no WebSocket for the subscription'));
  await p.getByRole('button', { name: /Execute query/ }).click();
  const ws = await socket;
  if (new URL(ws.url()).pathname !== '/graphql') fail(`the subscription's socket goes to ${ws.url()}`);
  // The gateway answers subscribe only with events: wait until it has the subscription.
  await waitForSubscribers(1);
  execFileSync(LCW_BIN, ['--db', LCW_DB, '--log-level', 'warn', 'import', LCW_FIXTURE], { stdio: 'inherit' });
  const resultEditor = p.locator('.graphiql-response .CodeMirror');
  let shown = '';
  for (let i = 0; i < 100; i++) {
    shown = await resultEditor.evaluate((el) => el.CodeMirror.getValue()).catch(() => '');
    if (shown.includes('taskReportChanged')) break;
    await p.waitForTimeout(100);
  }
  let event;
  try { event = JSON.parse(shown); } catch { fail(`the result pane shows no subscription event after the import:\n${shown}`); }
  const report = event.data?.taskReportChanged?.taskReport;
  const direct = report && await gql('query($id: ID!) { taskReport(id: $id) { id processingStatus task { displayName } } }', { id: report.id });
  if (!report || JSON.stringify(direct.data.taskReport) !== JSON.stringify(report)) {
    fail(`the event shown is not the imported report as /graphql answers it:\n${shown}\n${JSON.stringify(direct)}`);
  }
  console.log(`browser test: ok: GraphiQL ran a subscription over WebSocket and showed report ${report.id} that another process imported`);
  // Stop it, so the socket closes before the next phase.
  await p.getByRole('button', { name: /Stop query|Execute query/ }).click();
}

// parsed waits until GraphiQL has parsed the operation typed in its query editor, which it does
// 100 ms after the last change (debounced): Execute sends the editor's text with the document and
// operation name of the last parse, so a click before it would send a subscription over HTTP
// (no WebSocket) or a query under the previous operation's name.
async function parsed(p, operationName) {
  await p.waitForFunction((name) => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror;
    return editor?.operationName === name && editor.documentAST != null;
  }, operationName, { timeout: 10_000 }).catch(() => fail(`GraphiQL did not parse the operation ${operationName}`));
}

// waitForSubscribers waits until the gateway's /metrics counts n active subscriptions.
async function waitForSubscribers(n) {
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (text.includes(`lcw_subscriptions_active ${n}\n`)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`/metrics never counted ${n} active subscriptions`);
}

// newContext is a fresh browser profile whose every request passes through the test.
async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  // Every request the page makes passes here: record and block anything that leaves the machine.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).hostname === cdnHost && phase === 'cdn') {
      // /npm/<package>@<version>/<file>: the file npm installed for web/ (go generate ./web).
      const m = new URL(url).pathname.match(/^\/npm\/((?:@[^/]+\/)?[^@/]+)@[^/]+\/(.+)$/);
      const body = m && await readFile(path.join(here, '..', 'node_modules', m[1], m[2])).catch(() => null);
      if (!body) return route.fulfill({ status: 404 });
      const type = url.endsWith('.css') ? 'text/css' : 'text/javascript';
      return route.fulfill({ status: 200, body, headers: { 'content-type': type, 'access-control-allow-origin': '*' } });
    }
    if (isOutside(url)) {
      outside.push(url);
      return route.abort(new URL(url).hostname === cdnHost ? 'internetdisconnected' : 'blockedbyclient');
    }
    return route.continue();
  });
  // Every CSP violation, reported by the page itself (a blocked script or style, eval, framing).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });

  return context;
}

// gql sends a request straight to /graphql, as the page's fetcher would.
async function gql(text, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text, variables }),
  });
  return res.json();
}

// run presses GraphiQL's run button and reads the JSON its response pane shows.
async function run(operation, p) {
  const answered = p.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST'
    && (r.request().postData() ?? '').includes(operation));
  await p.getByRole('button', { name: /Execute query/ }).click();
  await answered;
  const resultEditor = p.locator('.graphiql-response .CodeMirror');
  for (let i = 0; i < 100; i++) {
    const text = await resultEditor.evaluate((el) => el.CodeMirror.getValue()).catch(() => '');
    try { return JSON.parse(text); } catch { await p.waitForTimeout(100); }
  }
  fail(`GraphiQL showed no JSON result for ${operation}`);
}

function watch(p) {
  p.on('websocket', (ws) => { if (isOutside(ws.url())) outside.push(ws.url()); });
  p.on('pageerror', (err) => pageErrors.push(err.message));
  p.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The refused CDN files of the 'offline' phase are expected; nothing else is.
    if (phase === 'offline' && msg.text().includes('ERR_INTERNET_DISCONNECTED')) return;
    console.error(`  console: ${msg.text()}`);
    consoleErrors.push(msg.text());
  });
}

function checkHeaders(where, headers, isPage) {
  const policy = headers['content-security-policy'] ?? '';
  const want = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
  for (const [h, v] of Object.entries(want)) if (headers[h] !== v) fail(`${where}: ${h} is ${headers[h]}, want ${v}`);
  if (!policy.includes("frame-ancestors 'none'")) fail(`${where}: policy ${policy} lacks frame-ancestors 'none'`);
  if (isPage && /unsafe-inline|unsafe-eval/.test(policy)) fail(`${where}: policy ${policy} allows inline code or eval`);
}

function checkClean(where, { cdnRefusedOk = false } = {}) {
  if (pageErrors.length) fail(`${where}: uncaught page errors: ${pageErrors.join('; ')}`);
  if (consoleErrors.length) fail(`${where}: console errors (CSP violations among them): ${consoleErrors.join('; ')}`);
  const left = outside.filter((u) => !(cdnRefusedOk && new URL(u).hostname === cdnHost));
  if (left.length) fail(`${where}: a request left localhost`);
  outside.length = 0;
}
