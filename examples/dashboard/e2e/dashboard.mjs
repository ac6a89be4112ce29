// Browser test of the sample dashboard, in Debian's chromium driven by playwright-core. It starts
// nothing: give it the dashboard's URL (vite dev or vite preview, which proxy /graphql to a gateway).
//
//   LCW_DASHBOARD_URL=http://127.0.0.1:5173 node e2e/dashboard.mjs
//
// LCW_PERSISTED=1: the gateway runs with --persisted-only, and every GraphQL request the page
// sends must name a document by its hash, never carry a query text.
// LCW_GRAPHQL_ORIGIN: the dashboard was built for a gateway on another origin (VITE_GRAPHQL_URL,
// the gateway's --cors-origins): every GraphQL request must go there, and pass CORS.
// LCW_SCREENSHOT: where to save a screenshot of the workflow page with its chart.
//
// The workflow list shows rows and "Load more" appends the next page (graphcache's
// relayPagination); a run with failed users shows its task reports and the failed users with their
// reasons; the workflow page draws the chart over a chosen window and its counters add up. With
// LCW_BIN, LCW_DB, LCW_FIXTURE and LCW_URL (the gateway's own URL, for /metrics), the run page
// updates live: `lcw-gateway import` run as another process changes a report of the open run, and
// the table shows it without a reload (its subscription over graphql-ws; persisted by id with
// LCW_PERSISTED=1). It fails on any request to a host other than localhost, on console errors and
// uncaught page errors.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const base = (process.env.LCW_DASHBOARD_URL ?? process.argv[2] ?? '').replace(/\/+$/, '');
if (!base) fail('usage: LCW_DASHBOARD_URL=http://127.0.0.1:PORT node e2e/dashboard.mjs');
const persisted = process.env.LCW_PERSISTED === '1';
const screenshot = process.env.LCW_SCREENSHOT;
const graphqlOrigin = process.env.LCW_GRAPHQL_ORIGIN?.replace(/\/+$/, '') ?? base;

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
const outside = [];
const problems = [];
const graphqlBodies = [];
const socketFrames = []; // every WebSocket frame the page sends, with its socket's URL
const statuses = new Set(['queued', 'inProgress', 'completed', 'completedWithErrors', 'canceled', 'failed', 'unknownFutureValue', 'no run']);

function fail(message) {
  if (outside.length) message += `\nrequests to other hosts (blocked): ${[...new Set(outside)].join(', ')}`;
  console.error(`dashboard test: FAIL: ${message}`);
  process.exit(1);
}

const isOutside = (url) => {
  const u = new URL(url);
  return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && !localHosts.has(u.hostname);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // Without the background-networking flags chromium phones Google at start; we want to see only
  // what the page asks for.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const request = route.request();
    if (isOutside(request.url())) {
      outside.push(request.url());
      return route.abort('blockedbyclient');
    }
    if (new URL(request.url()).pathname === '/graphql') {
      if (new URL(request.url()).origin !== graphqlOrigin) problems.push(`a GraphQL request went to ${request.url()}, not ${graphqlOrigin}`);
      graphqlBodies.push(request.postData() ?? request.url());
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('websocket', (ws) => {
    if (isOutside(ws.url())) outside.push(ws.url());
    ws.on('framesent', (f) => socketFrames.push({ url: ws.url(), payload: String(f.payload) }));
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  const text = (locator) => locator.innerText();
  const check = (ok, message) => { if (!ok) fail(message); };

  // The workflow list: rows, each with its last run's status; "Load more" appends the next page.
  await page.goto(`${base}/`);
  const rows = page.locator('[data-testid=workflows] tbody tr');
  await rows.first().waitFor({ timeout: 30_000 }).catch(() => fail(`the workflow list shows no rows; ${problems.join('; ')}`));
  const counter = page.getByText(/\d+ of \d+ workflows/);
  const [shown, total] = (await text(counter)).match(/(\d+) of (\d+)/).slice(1).map(Number);
  check(shown === await rows.count() && shown > 0, `the list says ${shown} but shows ${await rows.count()} rows`);
  if (shown < total) {
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByText(`${Math.min(total, 2 * shown)} of ${total} workflows`).waitFor({ timeout: 10_000 })
      .catch(() => fail('"Load more" did not append the next page'));
    check(await rows.count() === Math.min(total, 2 * shown), `after "Load more": ${await rows.count()} rows`);
  }
  for (const cell of await page.locator('[data-testid=workflows] tbody tr td:nth-child(3)').allInnerTexts()) {
    check(statuses.has(cell.trim()), `a last run's status reads "${cell}"`);
  }
  const workflowRows = await rows.count();

  // A run with failed users: its task reports, and each failed user with a failure reason.
  const failing = rows.filter({ has: page.locator('td:nth-child(5)', { hasText: /^[1-9]\d* \// }) }).first();
  check(await failing.count() === 1, 'no workflow\'s last run has failed users (the demo data has some)');
  await failing.locator('td:nth-child(3) a').click();
  await page.locator('[data-testid=task-reports] tbody tr').first().waitFor({ timeout: 10_000 })
    .catch(() => fail(`the run page shows no task reports; ${problems.join('; ')}`));
  const failedUsers = page.locator('[data-testid=failed-users] tbody tr');
  await failedUsers.first().waitFor({ timeout: 10_000 }).catch(() => fail('the run page shows no failed users'));
  for (const row of await failedUsers.all()) {
    const [user, task, reason] = (await row.locator('td').allInnerTexts()).map((s) => s.trim());
    check(user && task && reason && reason !== '–', `a failed user without a user, task or reason: ${[user, task, reason]}`);
  }
  const reportFailures = (await page.locator('[data-testid=task-reports] tbody tr td:nth-child(5)').allInnerTexts())
    .reduce((sum, n) => sum + Number(n), 0);
  const failedTotal = Number((await text(page.getByText(/\d+ of \d+ failed results/))).match(/of (\d+)/)[1]);
  check(failedTotal === reportFailures, `${failedTotal} failed results, but the task reports count ${reportFailures} failures`);
  const failedUserCount = await failedUsers.count();

  // The workflow's page: the chart over a window, and counters that add up.
  await page.locator('main p a').first().click();
  const bars = page.locator('[data-testid=chart] .recharts-bar-rectangle');
  await bars.first().waitFor({ timeout: 10_000 }).catch(() => fail(`the chart drew no bars; ${problems.join('; ')}`));
  const tiles = async () => Object.fromEntries(await Promise.all((await page.locator('[data-testid=summary] .tile').all())
    .map(async (t) => [await text(t.locator('.muted')), Number((await text(t.locator('.value'))).replace(/\D/g, ''))])));
  const wide = await tiles();
  check(wide['Task executions'] === wide.Succeeded + wide.Failed + wide.Unprocessed && wide['Task executions'] > 0,
    `the 30-day counters do not add up: ${JSON.stringify(wide)}`);
  await page.getByLabel('Window').selectOption('7');
  await page.waitForURL(/days=7/);
  await page.waitForFunction((before) => {
    const v = document.querySelector('[data-testid=summary] .tile .value');
    return v && v.textContent !== before;
  }, String(wide['Task executions'].toLocaleString()), { timeout: 10_000 }).catch(() => {});
  const narrow = await tiles();
  check(narrow['Task executions'] === narrow.Succeeded + narrow.Failed + narrow.Unprocessed
    && narrow['Task executions'] <= wide['Task executions'], `the 7-day counters: ${JSON.stringify(narrow)} (30 days: ${JSON.stringify(wide)})`);
  await page.getByLabel('Window').selectOption('56');
  await bars.first().waitFor({ timeout: 10_000 });
  await page.locator('[data-testid=runs] tbody tr').first().waitFor({ timeout: 10_000 })
    .catch(() => fail('the workflow page lists no runs'));
  if (screenshot) {
    await mkdir(path.dirname(screenshot), { recursive: true });
    await page.waitForTimeout(300); // the chart's ResponsiveContainer settles its size
    await page.screenshot({ path: screenshot, fullPage: true });
  }

  const barCount = await bars.count();
  const liveReport = await liveRunPage(page);

  if (problems.length) fail(problems.join('\n'));
  if (outside.length) fail('a request left localhost');
  check(graphqlBodies.length > 0, 'the page sent no GraphQL request');
  if (persisted) {
    const withText = graphqlBodies.filter((b) => /"query"\s*:/.test(b) || /[?&]query=/.test(b));
    check(withText.length === 0, `requests carried query text to a --persisted-only gateway: ${withText[0]}`);
  }
  const how = [persisted && 'persisted documents only', graphqlOrigin !== base && `gateway on ${graphqlOrigin}`].filter(Boolean);
  console.log(`dashboard test: ok${how.length ? ` (${how.join(', ')})` : ''}: ${workflowRows} workflows listed, `
    + `a run with ${failedTotal} failed results (${failedUserCount} shown with reasons), the chart drew ${barCount} bars, `
    + `${graphqlBodies.length} GraphQL requests, none left localhost${screenshot ? `; screenshot ${screenshot}` : ''}`
    + (liveReport ? `; the run page showed report ${liveReport}'s import live, without a reload` : ''));
} finally {
  await browser.close();
}

// liveRunPage opens the docs fixture's run (imported first), then has `lcw-gateway import` change
// one of its reports as another process, and waits for the table to show the change, in the same
// page load. It returns the report's id, or null when the environment does not allow the step.
async function liveRunPage(page) {
  const { LCW_BIN, LCW_DB, LCW_FIXTURE, LCW_URL } = process.env;
  if (!LCW_BIN || !LCW_DB || !LCW_FIXTURE || !LCW_URL) {
    console.warn('dashboard test: warning: LCW_BIN, LCW_DB, LCW_FIXTURE or LCW_URL unset: live updates not tried');
    return null;
  }
  const workflow = '14879e66-9ea9-48d0-804d-8fea672d0341';
  const run = 'dad77a47-6eda-4de7-bc37-fe8eb5aaf17d';
  const report = '3a3bea11-99ca-462d-86fb-d283db8d734a';
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'lcw-dashboard-')), 'fixture');
  cpSync(LCW_FIXTURE, dir, { recursive: true });
  const lcwImport = () => execFileSync(LCW_BIN, ['--db', LCW_DB, '--log-level', 'warn', 'import', dir], { stdio: 'inherit' });
  lcwImport();

  await page.goto(`${base}/#/runs/${run}`);
  const failedCells = page.locator('[data-testid=task-reports] tbody tr td:nth-child(5)');
  await failedCells.first().waitFor({ timeout: 10_000 }).catch(() => fail(`the docs run's page shows no reports; ${problems.join('; ')}`));
  const before = (await failedCells.allInnerTexts()).map(Number);
  if (before.some((n) => n !== 0)) fail(`the docs run's reports already show failures: ${before}`);
  await page.evaluate(() => { window.__sameLoad = true; });
  await waitForSubscription();

  // Graph's next copy of report A: one of its two users failed.
  const file = path.join(dir, 'identityGovernance', 'lifecycleWorkflows', 'workflows', workflow, 'taskReports.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  for (const r of doc.value) {
    if (r.id !== report) continue;
    Object.assign(r, { processingStatus: 'completedWithErrors', successfulUsersCount: 1, failedUsersCount: 1, lastUpdatedDateTime: '2022-08-25T01:00:00.0000000Z' });
  }
  writeFileSync(file, JSON.stringify(doc, null, 2));
  lcwImport();

  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=task-reports] tbody tr td:nth-child(5)')]
    .some((td) => td.textContent.trim() === '1'), null, { timeout: 10_000 })
    .catch(() => fail(`the run page did not show the imported failure without a reload; ${problems.join('; ')}`));
  if (!await page.evaluate(() => window.__sameLoad === true)) fail('the run page reloaded');
  const subscribes = socketFrames.filter((f) => f.payload.includes('"subscribe"'));
  if (new URL(subscribes[0]?.url ?? 'ws://none/').pathname !== '/graphql') fail(`no subscribe frame on a /graphql socket: ${JSON.stringify(socketFrames)}`);
  if (persisted && subscribes.some((f) => JSON.parse(f.payload).payload?.query)) {
    fail(`a subscription carried query text to a --persisted-only gateway: ${subscribes[0].payload}`);
  }
  return report;
}

// waitForSubscription waits until the gateway counts an active subscription: an event committed
// before would not reach a subscription without a cursor.
async function waitForSubscription() {
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`${process.env.LCW_URL}/metrics`)).text();
    const m = text.match(/^lcw_subscriptions_active (\d+)$/m);
    if (m && Number(m[1]) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`the gateway never counted the run page's subscription; ${problems.join('; ')}`);
}
