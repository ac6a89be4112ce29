// What a dashboard does with the generated types. It only has to compile under `tsc --strict`,
// against the types from the schema files and against those from live introspection alike.
import type {
  FailedResultsQuery,
  FailedResultsQueryVariables,
  RunDashboardQuery,
  RunDashboardQueryVariables,
  TaskReportRowFragment,
  WorkflowSummaryQuery,
  WorkflowSummaryQueryVariables,
} from 'lcw-types/operations';
import type { LifecycleWorkflowProcessingStatus, Scalars } from 'lcw-types/schema';

// DateTime must arrive as exactly `string`, not `any` or `unknown`.
type IsExactly<T, U> = (<V>() => V extends T ? 1 : 2) extends <V>() => V extends U ? 1 : 2 ? true : false;
const dateTimeIsString: IsExactly<Scalars['DateTime']['output'], string> = true;
const dateTimeInputIsString: IsExactly<Scalars['DateTime']['input'], string> = true;

// Enums are Graph's wire strings.
const problem: LifecycleWorkflowProcessingStatus[] = ['failed', 'completedWithErrors'];
// @ts-expect-error Graph has no status "done"; strict types must reject it.
const notAStatus: LifecycleWorkflowProcessingStatus = 'done';

export interface TaskRow {
  run: string;
  scheduled: Date;
  task: string;
  definition: string;
  failedShare: number;
  failedUsers: string[];
}

// One row per task report of each run, as a run dashboard lists them.
export function runRows(data: RunDashboardQuery): TaskRow[] {
  const workflow = data.workflow;
  if (!workflow) return []; // an unknown id is null, not an error
  return workflow.runs.nodes.flatMap((run) =>
    run.taskReports.nodes.map((report: TaskReportRowFragment) => ({
      run: run.id,
      scheduled: new Date(run.scheduledDateTime),
      task: `${report.task.executionSequence}. ${report.task.displayName}`,
      definition: `${report.taskDefinition.displayName} (${report.taskDefinition.category.join(', ')})`,
      failedShare: report.totalUsersCount === 0 ? 0 : report.failedUsersCount / report.totalUsersCount,
      failedUsers: report.taskProcessingResults.nodes
        .filter((r) => problem.includes(r.processingStatus))
        .map((r) => r.subject.displayName ?? r.subject.mail ?? r.subject.id),
    })),
  );
}

// Failed results grouped by task, newest failure first within each.
export function failuresByTask(data: FailedResultsQuery): Map<string, { user: string; reason: string; at: Date | null }[]> {
  const byTask = new Map<string, { user: string; reason: string; at: Date | null }[]>();
  for (const r of data.taskProcessingResults.nodes) {
    const list = byTask.get(r.task.displayName) ?? [];
    list.push({
      user: r.subject.userPrincipalName ?? r.subject.id,
      reason: r.failureReason ?? 'no reason given',
      at: r.completedDateTime === null ? null : new Date(r.completedDateTime),
    });
    byTask.set(r.task.displayName, list);
  }
  return byTask;
}

export function failureRate(data: WorkflowSummaryQuery): number | null {
  const s = data.taskReportSummary;
  if (!s || s.totalTasks === 0) return null;
  return s.failedTasks / s.totalTasks;
}

export function worstTask(data: WorkflowSummaryQuery): string | undefined {
  const stats = data.workflow?.taskReportStats ?? [];
  const worst = [...stats].sort((a, b) => b.failedTasks - a.failedTasks)[0];
  return worst?.task?.displayName ?? worst?.key;
}

// Variables are typed too: DateTime is an RFC 3339 string, optional arguments may be left out.
const since = new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString();
export const variables = {
  dashboard: { workflowId: 'd3b4c3e2-0000-4000-8000-000000000001', runs: 5 } satisfies RunDashboardQueryVariables,
  failed: { workflowId: 'd3b4c3e2-0000-4000-8000-000000000001', since } satisfies FailedResultsQueryVariables,
  summary: {
    workflowId: 'd3b4c3e2-0000-4000-8000-000000000001',
    start: since,
    end: new Date().toISOString(),
  } satisfies WorkflowSummaryQueryVariables,
};

export const checks = { dateTimeIsString, dateTimeInputIsString, notAStatus };
