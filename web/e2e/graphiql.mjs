// Browser test of GraphiQL at / of a running gateway, in Debian's chromium driven by playwright-core.
// It starts nothing: give it the gateway's URL.
//
//   LCW_URL=http://127.0.0.1:8080 node graphiql.mjs
//
// It opens /, types a task-report query, runs it, checks the result GraphiQL shows against the same
// query sent straight to /graphql, opens the explorer plugin, and saves a screenshot
// (LCW_SCREENSHOT, default out/graphiql.png). It fails on any request to a host other than
// localhost, on any uncaught page error and on an empty result when LCW_E2E_REQUIRE_DATA=1.
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const base = (process.env.LCW_URL ?? process.argv[2] ?? '').replace(/\/+$/, '');
if (!base) fail('usage: LCW_URL=http://127.0.0.1:PORT node graphiql.mjs');
const screenshot = path.resolve(
  process.env.LCW_SCREENSHOT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'out', 'graphiql.png'));
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
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  // Every request the page makes passes here: record and block anything that leaves the machine.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isOutside(url)) {
      outside.push(url);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('websocket', (ws) => { if (isOutside(ws.url())) outside.push(ws.url()); });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') console.error(`  console: ${msg.text()}`); });

  const res = await page.goto(`${base}/`);
  if (!res?.ok()) fail(`GET / answered ${res?.status()}`);
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor({ timeout: 20_000 }).catch(async () => {
    await page.screenshot({ path: screenshot }).catch(() => {});
    fail(`GraphiQL did not render (still "Loading…"?); page errors: ${pageErrors.join('; ') || 'none'}`);
  });

  // Type the query: replace the welcome text, as a user would.
  await queryEditor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  // insertText types it as one input event, so CodeMirror's auto-closed brackets and indents do
  // not double what we type.
  await page.keyboard.insertText(query);
  const typed = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  if (typed.trim() !== query.trim()) fail(`query editor holds:\n${typed}`);

  const answered = page.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST'
    && (r.request().postData() ?? '').includes('RecentTaskReports'));
  await page.getByRole('button', { name: /Execute query/ }).click();
  await answered;

  // Read the result from GraphiQL's response pane, once it holds complete JSON.
  const resultEditor = page.locator('.graphiql-response .CodeMirror');
  let shown;
  for (let i = 0; i < 100 && shown === undefined; i++) {
    const text = await resultEditor.evaluate((el) => el.CodeMirror.getValue()).catch(() => '');
    try { shown = JSON.parse(text); } catch { await page.waitForTimeout(100); }
  }
  if (shown === undefined) fail('GraphiQL showed no JSON result');
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
  const direct = await (await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }),
  })).json();
  if (JSON.stringify(direct) !== JSON.stringify(shown)) {
    fail(`GraphiQL shows\n${JSON.stringify(shown)}\nbut /graphql answers\n${JSON.stringify(direct)}`);
  }
  if (reports.totalCount === 0) {
    const msg = 'the database holds no task reports, so the screenshot shows an empty list';
    if (requireData) fail(msg);
    console.warn(`browser test: warning: ${msg}`);
  }

  // The explorer plugin builds queries by clicking; it must load offline too.
  await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
  await page.locator('.graphiql-plugin').getByText('taskReports', { exact: true }).first()
    .waitFor({ timeout: 10_000 }).catch(() => fail('the explorer plugin did not list the schema\'s fields'));

  await mkdir(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  if (pageErrors.length) fail(`uncaught page errors: ${pageErrors.join('; ')}`);
  if (outside.length) fail('a request left localhost');
  console.log(`browser test: ok: GraphiQL ran RecentTaskReports (${reports.totalCount} task reports, `
    + `${reports.nodes.length} shown), no request left localhost; screenshot ${screenshot}`);
} finally {
  await browser.close();
}
