import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import { graphql } from '../gql';
import { ErrorBox, Status, when } from '../Layout';

// What a row of the task reports table shows: the run's query and its live updates select the
// same fields, so an event replaces exactly what the row reads.
graphql(`
  fragment ReportRow on TaskReport {
    id
    processingStatus
    successfulUsersCount
    failedUsersCount
    unprocessedUsersCount
    totalUsersCount
    task {
      id
      displayName
      executionSequence
    }
    taskDefinition {
      id
      category
    }
  }
`);

// A run: its task reports (one per task), and the users for whom a task failed, with the reason.
const RunQuery = graphql(`
  query Run($id: ID!) {
    run(id: $id) {
      id
      processingStatus
      workflowExecutionType
      scheduledDateTime
      startedDateTime
      completedDateTime
      totalUsersCount
      failedUsersCount
      workflow {
        id
        displayName
      }
      taskReports(orderBy: [{ field: startedDateTime, direction: asc }]) {
        nodes {
          ...ReportRow
        }
      }
    }
  }
`);

// The run's reports as they change (an import or a sync pass): each event carries the report
// with the fields the table shows, and graphcache updates the cached report by its id, so the
// table above changes without a reload.
const RunReportsLive = graphql(`
  subscription RunReportsLive($runId: ID!) {
    taskReportChanged(runId: $runId) {
      cursor
      taskReport {
        ...ReportRow
      }
    }
  }
`);

const FailedUsersQuery = graphql(`
  query FailedUsers($runId: ID!, $first: Int!, $after: String) {
    taskProcessingResults(
      runId: $runId
      where: { processingStatus: { in: [failed] } }
      orderBy: [{ field: completedDateTime, direction: desc }]
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          failureReason
          completedDateTime
          subject {
            id
            displayName
            userPrincipalName
          }
          task {
            id
            displayName
          }
        }
      }
    }
  }
`);

export function RunPage() {
  const { id = '' } = useParams();
  const [{ data, error }] = useQuery({ query: RunQuery, variables: { id } });
  const [live] = useSubscription({ query: RunReportsLive, variables: { runId: id } });
  const run = data?.run;
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="muted">Loading…</p>;
  if (!run) return <p role="alert">No run has the id {id}.</p>;

  return (
    <section>
      <p>
        <Link to={`/workflows/${run.workflow.id}`}>{run.workflow.displayName}</Link>
      </p>
      <h1>
        Run of {when(run.scheduledDateTime)} <Status value={run.processingStatus} />
      </h1>
      <p className="muted">
        {run.workflowExecutionType}, started {when(run.startedDateTime)}, completed {when(run.completedDateTime)};{' '}
        {run.failedUsersCount} of {run.totalUsersCount} users failed
      </p>
      <h2>
        Task reports{' '}
        <span className="muted small" data-testid="live">
          {live.error ? 'live updates off' : live.data ? 'live: updated' : 'live'}
        </span>
      </h2>
      <table data-testid="task-reports">
        <thead>
          <tr>
            <th>#</th>
            <th>Task</th>
            <th>Status</th>
            <th className="num">Succeeded</th>
            <th className="num">Failed</th>
            <th className="num">Unprocessed</th>
            <th className="num">Users</th>
          </tr>
        </thead>
        <tbody>
          {run.taskReports.nodes.map((r) => (
            <tr key={r.id}>
              <td>{r.task.executionSequence}</td>
              <td>{r.task.displayName}</td>
              <td><Status value={r.processingStatus} /></td>
              <td className="num">{r.successfulUsersCount}</td>
              <td className="num">{r.failedUsersCount}</td>
              <td className="num">{r.unprocessedUsersCount}</td>
              <td className="num">{r.totalUsersCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <FailedUsers runId={run.id} />
    </section>
  );
}

function FailedUsers({ runId }: { runId: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: FailedUsersQuery, variables: { runId, first: 10, after } });
  const results = data?.taskProcessingResults;
  return (
    <>
      <h2>Failed users</h2>
      {error && <ErrorBox error={error} />}
      {results?.totalCount === 0 && <p className="muted">No task failed for any user in this run.</p>}
      {results && results.totalCount > 0 && (
        <table data-testid="failed-users">
          <thead>
            <tr>
              <th>User</th>
              <th>Task</th>
              <th>Failure reason</th>
              <th>Completed</th>
            </tr>
          </thead>
          <tbody>
            {results.edges.map(({ node: r }) => (
              <tr key={r.id}>
                <td>
                  {r.subject.displayName}
                  <div className="muted small">{r.subject.userPrincipalName}</div>
                </td>
                <td>{r.task.displayName}</td>
                <td className="reason">{r.failureReason ?? '–'}</td>
                <td>{when(r.completedDateTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        {results && results.totalCount > 0 && `${results.edges.length} of ${results.totalCount} failed results`}{' '}
        {results?.pageInfo.hasNextPage && (
          <button disabled={fetching} onClick={() => setAfter(results.pageInfo.endCursor ?? null)}>
            Load more
          </button>
        )}
      </p>
    </>
  );
}
