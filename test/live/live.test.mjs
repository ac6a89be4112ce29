// Subscriptions through the clients dashboards use: graphql-ws over WebSocket and graphql-sse's
// distinct connections, against the real gateway (LCW_URL) serving a SQLite file (LCW_DB) that
// `lcw-gateway import` (LCW_BIN) writes as a separate process. Run by .ci/live.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

const { LCW_URL, LCW_DB, LCW_BIN, LCW_FIXTURE } = process.env;
const workflow = '14879e66-9ea9-48d0-804d-8fea672d0341';
const reportA = '3a3bea11-99ca-462d-86fb-d283db8d734a';
const reportB = '23f37fcb-040d-4ee9-91df-1234700ebeb6';
const reportC = '462e6deb-a7b4-4777-a494-389c495862b8';
const resultOfB = '7dbc5ab2-c335-5d0c-a3cf-22cd1163a1b1';
const otherResultOfB = 'c0fee1ec-da33-554e-b290-d46e79b8a04a';
const wfDir = ['identityGovernance', 'lifecycleWorkflows', 'workflows', workflow];

const reportSub = `subscription($wf: ID) { taskReportChanged(workflowId: $wf) {
  cursor taskReport { id lastUpdatedDateTime successfulUsersCount task { displayName } run { id } } } }`;
const resultSub = `subscription($wf: ID) { taskProcessingResultChanged(workflowId: $wf) {
  cursor taskProcessingResult { id completedDateTime subject { id } } } }`;

// A copy of the docs fixture, imported once before anyone subscribes.
const dir = join(mkdtempSync(join(tmpdir(), 'lcw-live-')), 'fixture');
cpSync(LCW_FIXTURE, dir, { recursive: true });
const lcwImport = () => execFileSync(LCW_BIN, ['--db', LCW_DB, '--log-level', 'warn', 'import', dir], { stdio: 'inherit' });

function edit(path, fn) {
  const file = join(dir, ...path) + '.json';
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.value.forEach(fn);
  writeFileSync(file, JSON.stringify(doc, null, 2));
}
const touchReports = (minute, ...ids) => edit([...wfDir, 'taskReports'], (r) => {
  if (ids.includes(r.id)) r.lastUpdatedDateTime = `2022-08-25T00:${String(minute).padStart(2, '0')}:00.0000000Z`;
});
const touchResult = (id, time) => edit([...wfDir, 'taskReports', reportB, 'taskProcessingResults'], (r) => {
  if (r.id === id) r.completedDateTime = time;
});

// A stream of a client's events, read one at a time.
function stream(client, query) {
  const it = client.iterate({ query, variables: { wf: workflow } });
  return {
    async next() {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no event in 20s')), 20000).unref());
      const { value, done } = await Promise.race([it.next(), timeout]);
      assert.equal(done, false, 'the stream ended');
      assert.equal(value.errors, undefined, JSON.stringify(value.errors));
      return value.data;
    },
    close: () => it.return?.(),
  };
}

async function waitSubscribed(n) {
  for (const end = Date.now() + 20000; Date.now() < end;) {
    const metrics = await (await fetch(`${LCW_URL}/metrics`)).text();
    if (metrics.includes(`lcw_subscriptions_active ${n}\n`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never ${n} subscriptions`);
}

test('graphql-ws and graphql-sse receive exactly the changes of an import process', async () => {
  lcwImport();
  const ws = createWsClient({ url: LCW_URL.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket });
  const sse = createSseClient({ url: `${LCW_URL}/graphql` });
  const wsReports = stream(ws, reportSub);
  const wsResults = stream(ws, resultSub);
  const sseReports = stream(sse, reportSub);
  try {
    await waitSubscribed(3);

    touchReports(1, reportA, reportB);
    touchResult(resultOfB, '2022-08-24T23:29:00.0000000Z');
    lcwImport();
    for (const [name, reports] of [['graphql-ws', wsReports], ['graphql-sse', sseReports]]) {
      const got = [await reports.next(), await reports.next()].map((d) => d.taskReportChanged);
      assert.deepEqual(got.map((e) => e.taskReport.id).sort(), [reportA, reportB].sort(), name);
      for (const e of got) {
        assert.equal(e.taskReport.lastUpdatedDateTime, '2022-08-25T00:01:00.0000000Z', name);
        assert.ok(e.cursor && e.taskReport.task.displayName && e.taskReport.run.id, name);
      }
    }
    const result = (await wsResults.next()).taskProcessingResultChanged.taskProcessingResult;
    assert.deepEqual(result, { id: resultOfB, completedDateTime: '2022-08-24T23:29:00.0000000Z', subject: { id: 'ea09ac2e-77e3-4134-85f2-25ccf3c33387' } });

    // The same folder again delivers nothing: the next events are those of a later, other change.
    lcwImport();
    touchReports(2, reportC);
    touchResult(otherResultOfB, '2022-08-24T23:30:00.0000000Z');
    lcwImport();
    assert.equal((await wsReports.next()).taskReportChanged.taskReport.id, reportC);
    assert.equal((await sseReports.next()).taskReportChanged.taskReport.id, reportC);
    assert.equal((await wsResults.next()).taskProcessingResultChanged.taskProcessingResult.id, otherResultOfB);
  } finally {
    wsReports.close();
    wsResults.close();
    sseReports.close();
    await ws.dispose();
    sse.dispose();
  }
});
