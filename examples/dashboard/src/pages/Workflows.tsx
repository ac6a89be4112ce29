import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { ErrorBox, Status, when } from '../Layout';

// Every workflow with its newest run (runs come newest scheduled first), a page at a time.
const WorkflowsQuery = graphql(`
  query Workflows($first: Int!, $after: String) {
    workflows(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          displayName
          category
          isEnabled
          runs(first: 1) {
            nodes {
              id
              processingStatus
              scheduledDateTime
              totalUsersCount
              failedUsersCount
            }
          }
        }
      }
    }
  }
`);

const pageSize = 5;

export function WorkflowsPage() {
  // The cursor of the last page asked for; graphcache's relayPagination returns every page so far.
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: WorkflowsQuery, variables: { first: pageSize, after } });
  const workflows = data?.workflows;

  return (
    <section>
      <h1>Workflows</h1>
      {error && <ErrorBox error={error} />}
      <table data-testid="workflows">
        <thead>
          <tr>
            <th>Workflow</th>
            <th>Category</th>
            <th>Last run</th>
            <th>Scheduled</th>
            <th className="num">Failed users</th>
          </tr>
        </thead>
        <tbody>
          {workflows?.edges.map(({ node: w }) => {
            const run = w.runs.nodes[0];
            return (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}`}>{w.displayName}</Link>
                  {!w.isEnabled && <span className="muted"> (disabled)</span>}
                </td>
                <td>{w.category}</td>
                <td>{run ? <Link to={`/runs/${run.id}`}><Status value={run.processingStatus} /></Link> : <Status value={null} />}</td>
                <td>{when(run?.scheduledDateTime)}</td>
                <td className="num">{run ? `${run.failedUsersCount} / ${run.totalUsersCount}` : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted">
        {workflows && `${workflows.edges.length} of ${workflows.totalCount} workflows`}{' '}
        {workflows?.pageInfo.hasNextPage && (
          <button disabled={fetching} onClick={() => setAfter(workflows.pageInfo.endCursor ?? null)}>
            Load more
          </button>
        )}
      </p>
    </section>
  );
}
