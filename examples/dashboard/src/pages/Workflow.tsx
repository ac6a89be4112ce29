import { useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { graphql } from '../gql';
import { ErrorBox, Status, when } from '../Layout';

// Graph's task report summary over the window, the same counters per day for the chart, and the
// run summary; the window is [start, end], closed, as Graph has it.
const SummaryQuery = graphql(`
  query WorkflowSummary($id: ID!, $start: DateTime!, $end: DateTime!) {
    taskReportSummary(workflowId: $id, startDateTime: $start, endDateTime: $end) {
      successfulTasks
      failedTasks
      unprocessedTasks
      totalTasks
    }
    workflow(id: $id) {
      id
      displayName
      description
      category
      taskReportStats(startDateTime: $start, endDateTime: $end, groupBy: day) {
        key
        reportCount
        successfulTasks
        failedTasks
        unprocessedTasks
        totalTasks
      }
      runSummary(startDateTime: $start, endDateTime: $end) {
        totalRuns
        failedRuns
        successfulRuns
      }
    }
  }
`);

const RunsQuery = graphql(`
  query WorkflowRuns($id: ID!, $first: Int!, $after: String) {
    workflow(id: $id) {
      id
      runs(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            id
            processingStatus
            workflowExecutionType
            scheduledDateTime
            totalUsersCount
            failedUsersCount
          }
        }
      }
    }
  }
`);

const windows = [7, 14, 30, 56, 90];
const day = 24 * 60 * 60 * 1000;

// The window ends at the next UTC midnight, so the variables (and the cached answer) stay the same
// all day.
function windowOf(days: number): { start: string; end: string } {
  const end = Math.ceil(Date.now() / day) * day;
  return { start: new Date(end - days * day).toISOString(), end: new Date(end).toISOString() };
}

export function WorkflowPage() {
  const { id = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const days = Number(search.get('days')) || 30;
  const range = useMemo(() => windowOf(days), [days]);
  const [{ data, error }] = useQuery({ query: SummaryQuery, variables: { id, ...range } });
  const workflow = data?.workflow;
  const summary = data?.taskReportSummary;

  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="muted">Loading…</p>;
  if (!workflow || !summary) return <p role="alert">No workflow has the id {id}.</p>;

  return (
    <section>
      <h1>{workflow.displayName}</h1>
      <p className="muted">{workflow.category}{workflow.description && ` · ${workflow.description}`}</p>
      <label>
        Window:{' '}
        <select value={days} onChange={(e) => setSearch({ days: e.target.value })} aria-label="Window">
          {windows.map((d) => <option key={d} value={d}>last {d} days</option>)}
        </select>
      </label>
      <div className="tiles" data-testid="summary">
        <Tile label="Task executions" value={summary.totalTasks} />
        <Tile label="Succeeded" value={summary.successfulTasks} />
        <Tile label="Failed" value={summary.failedTasks} />
        <Tile label="Unprocessed" value={summary.unprocessedTasks} />
        <Tile label="Runs" value={workflow.runSummary.totalRuns} />
        <Tile label="Failed runs" value={workflow.runSummary.failedRuns} />
      </div>
      <h2>Task executions per day</h2>
      {workflow.taskReportStats.length === 0
        ? <p className="muted">No task report in this window.</p>
        : (
          <div className="chart" data-testid="chart">
            <ResponsiveContainer width="100%" height={300}>
              <BarChart data={workflow.taskReportStats} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="key" tick={{ fontSize: 12 }} />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="successfulTasks" name="succeeded" stackId="tasks" fill="#2e7d32" isAnimationActive={false} />
                <Bar dataKey="failedTasks" name="failed" stackId="tasks" fill="#c62828" isAnimationActive={false} />
                <Bar dataKey="unprocessedTasks" name="unprocessed" stackId="tasks" fill="#9e9e9e" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
      <Runs workflowId={workflow.id} />
    </section>
  );
}

function Tile({ label, value }: { label: string; value: number }) {
  return (
    <div className="tile">
      <div className="value">{value.toLocaleString()}</div>
      <div className="muted">{label}</div>
    </div>
  );
}

function Runs({ workflowId }: { workflowId: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: RunsQuery, variables: { id: workflowId, first: 10, after } });
  const runs = data?.workflow?.runs;
  return (
    <>
      <h2>Runs</h2>
      {error && <ErrorBox error={error} />}
      <table data-testid="runs">
        <thead>
          <tr>
            <th>Scheduled</th>
            <th>Status</th>
            <th>Type</th>
            <th className="num">Failed users</th>
          </tr>
        </thead>
        <tbody>
          {runs?.edges.map(({ node: r }) => (
            <tr key={r.id}>
              <td><Link to={`/runs/${r.id}`}>{when(r.scheduledDateTime)}</Link></td>
              <td><Status value={r.processingStatus} /></td>
              <td>{r.workflowExecutionType}</td>
              <td className="num">{r.failedUsersCount} / {r.totalUsersCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        {runs && `${runs.edges.length} of ${runs.totalCount} runs`}{' '}
        {runs?.pageInfo.hasNextPage && (
          <button disabled={fetching} onClick={() => setAfter(runs.pageInfo.endCursor ?? null)}>Load more</button>
        )}
      </p>
    </>
  );
}
