package db

import (
	"context"
	"time"

	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// TaskReportSummary is Graph's taskReportSummary.
type TaskReportSummary struct {
	SuccessfulTasks  int
	FailedTasks      int
	UnprocessedTasks int
	TotalTasks       int
}

// TaskReportStats is the summary of one group of reports.
type TaskReportStats struct {
	By          GroupBy `gorm:"-"` // what Key is
	Key         string
	ReportCount int
	TaskReportSummary
}

// RunSummary is Graph's runSummary.
type RunSummary struct {
	FailedRuns     int
	FailedTasks    int
	SuccessfulRuns int
	TotalRuns      int
	TotalTasks     int
	TotalUsers     int
}

// UserSummary is Graph's userSummary.
type UserSummary struct {
	FailedTasks     int
	FailedUsers     int
	SuccessfulUsers int
	TotalTasks      int
	TotalUsers      int
}

// GroupBy is how TaskReportStatistics groups reports.
type GroupBy string

const (
	GroupByTask           GroupBy = "task"
	GroupByTaskDefinition GroupBy = "taskDefinition"
	GroupByRun            GroupBy = "run"
	GroupByDay            GroupBy = "day"
)

// GroupBys lists the ways to group, in the order the API shows them.
var GroupBys = []GroupBy{GroupByTask, GroupByTaskDefinition, GroupByRun, GroupByDay}

var groupColumns = map[GroupBy]string{
	GroupByTask: "task_id", GroupByTaskDefinition: "task_definition_id", GroupByRun: "run_id", GroupByDay: "day",
}

const summaryColumns = `COALESCE(SUM(successful_users_count), 0) AS successful_tasks,
	COALESCE(SUM(failed_users_count), 0) AS failed_tasks,
	COALESCE(SUM(unprocessed_users_count), 0) AS unprocessed_tasks,
	COALESCE(SUM(total_users_count), 0) AS total_tasks`

// SummarizeTaskReports is Graph's taskReports/summary over the closed window [start, end].
func (s *Store) SummarizeTaskReports(ctx context.Context, workflowID string, start, end time.Time) (*TaskReportSummary, error) {
	reports, err := s.reportsInWindow(ctx, workflowID, start, end)
	if err != nil {
		return nil, err
	}
	var out TaskReportSummary
	err = s.db.WithContext(ctx).Raw("SELECT "+summaryColumns+" FROM (?) AS w", reports).Scan(&out).Error
	return &out, err
}

// SummarizeWorkflowTaskReports is SummarizeTaskReports of a workflow a client named, nil when the
// tenant has no such workflow, in one statement: the workflow's existence is a column of the
// aggregate rather than a read before it (Query.taskReportSummary: a round trip less). The
// statement is written once (workflowSummarySQL), not built by GORM per request, whose builder
// cost more CPU than PostgreSQL's execution. A window that ends before it starts is an error only
// for a known workflow, as when the workflow was read first.
func (s *Store) SummarizeWorkflowTaskReports(ctx context.Context, workflowID string, start, end time.Time) (*TaskReportSummary, error) {
	wf := storedID(workflowID)
	if start.After(end) {
		var n int64
		if err := s.scoped(ctx, tableWorkflows).Where("id = ?", wf).Count(&n).Error; err != nil || n == 0 {
			return nil, err
		}
		return nil, badInput("startDateTime", "startDateTime must not be after endDateTime")
	}
	// The stores keep microseconds: finer bounds would compare differently on the two engines.
	start, end = start.UTC().Truncate(time.Microsecond), end.UTC().Truncate(time.Microsecond)
	t := tenant.From(ctx)
	// Read as a page is (scanAll): on SQLite the connection keeps the statement prepared.
	rows, err := scanAll[workflowSummary](s, s.db.WithContext(ctx).Raw(workflowSummarySQL, t, wf, t, wf, start, end, t, wf, start, end))
	if err != nil || len(rows) == 0 || !rows[0].Known {
		return nil, err
	}
	r := rows[0]
	return &TaskReportSummary{SuccessfulTasks: r.SuccessfulTasks, FailedTasks: r.FailedTasks,
		UnprocessedTasks: r.UnprocessedTasks, TotalTasks: r.TotalTasks}, nil
}

// workflowSummary is the row of workflowSummarySQL.
type workflowSummary struct {
	Known                                                      bool
	SuccessfulTasks, FailedTasks, UnprocessedTasks, TotalTasks int
}

// workflowSummarySQL is the statement of SummarizeWorkflowTaskReports: reportsInWindow's two
// branches (each answered from an index) with only the summed columns, and the workflow's
// existence. Its parameters: tenant, workflow; then tenant, workflow, start, end twice.
const workflowSummarySQL = `SELECT EXISTS (SELECT 1 FROM workflows WHERE workflows.tenant_id = ? AND workflows.id = ?) AS known,
	` + summaryColumns + ` FROM (
	SELECT task_reports.successful_users_count, task_reports.failed_users_count,
		task_reports.unprocessed_users_count, task_reports.total_users_count
	FROM task_reports
	WHERE task_reports.tenant_id = ? AND task_reports.workflow_id = ?
		AND task_reports.started_date_time >= ? AND task_reports.started_date_time <= ?
	UNION ALL
	SELECT task_reports.successful_users_count, task_reports.failed_users_count,
		task_reports.unprocessed_users_count, task_reports.total_users_count
	FROM task_reports JOIN runs r ON r.tenant_id = task_reports.tenant_id AND r.id = task_reports.run_id
	WHERE task_reports.tenant_id = ? AND task_reports.workflow_id = ? AND task_reports.started_date_time IS NULL
		AND r.scheduled_date_time >= ? AND r.scheduled_date_time <= ?) AS w`

// TaskReportStatistics is SummarizeTaskReports per group, sorted by the group's key.
func (s *Store) TaskReportStatistics(ctx context.Context, workflowID string, start, end time.Time, by GroupBy) ([]*TaskReportStats, error) {
	col, ok := groupColumns[by]
	if !ok {
		return nil, badInput("groupBy", "cannot group by %q", by)
	}
	reports, err := s.reportsInWindow(ctx, workflowID, start, end)
	if err != nil {
		return nil, err
	}
	var out []*TaskReportStats
	err = s.db.WithContext(ctx).Raw("SELECT "+col+" AS key, COUNT(*) AS report_count, "+summaryColumns+
		" FROM (?) AS w GROUP BY "+col+" ORDER BY "+col, reports).Scan(&out).Error
	for _, g := range out {
		g.By = by
	}
	return out, err
}

// reportsInWindow selects the workflow's reports in the closed window [start, end]: by their
// startedDateTime or, before they start, by their run's scheduledDateTime. Two branches, each
// answered from an index, instead of one COALESCE no index can serve.
func (s *Store) reportsInWindow(ctx context.Context, workflowID string, start, end time.Time) (*gorm.DB, error) {
	if start.After(end) {
		return nil, badInput("startDateTime", "startDateTime must not be after endDateTime")
	}
	wf := storedID(workflowID)
	// The stores keep microseconds: finer bounds would compare differently on the two engines.
	start, end = start.UTC().Truncate(time.Microsecond), end.UTC().Truncate(time.Microsecond)
	cols := "task_reports.task_id, task_reports.task_definition_id, task_reports.run_id, task_reports.successful_users_count, " +
		"task_reports.failed_users_count, task_reports.unprocessed_users_count, task_reports.total_users_count, "
	started := s.scoped(ctx, tableTaskReports).Select(cols+s.day("task_reports.started_date_time")+" AS day").
		Where("task_reports.workflow_id = ? AND task_reports.started_date_time >= ? AND task_reports.started_date_time <= ?",
			wf, start, end)
	notStarted := s.scoped(ctx, tableTaskReports).Select(cols+s.day("r.scheduled_date_time")+" AS day").
		Joins("JOIN runs r ON "+sameTenant("r", tableTaskReports)+" AND r.id = task_reports.run_id").
		Where("task_reports.workflow_id = ? AND task_reports.started_date_time IS NULL AND r.scheduled_date_time >= ? AND r.scheduled_date_time <= ?",
			wf, start, end)
	return s.db.Raw("? UNION ALL ?", started, notStarted), nil
}

// day is the UTC calendar day of a timestamp column, as YYYY-MM-DD.
func (s *Store) day(col string) string {
	if s.postgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	// SQLite keeps UTC timestamps as text that starts with the date.
	return "substr(" + col + ", 1, 10)"
}

// runsInWindow is the workflow's runs that started in [start, end], or were scheduled in it and
// have not started.
func (s *Store) runsInWindow(ctx context.Context, workflowID string, start, end time.Time) (*gorm.DB, error) {
	if start.After(end) {
		return nil, badInput("startDateTime", "startDateTime must not be after endDateTime")
	}
	// The stores keep microseconds: finer bounds would compare differently on the two engines.
	start, end = start.UTC().Truncate(time.Microsecond), end.UTC().Truncate(time.Microsecond)
	return s.scoped(ctx, tableRuns).Where("workflow_id = ?", storedID(workflowID)).
		Where("(started_date_time >= ? AND started_date_time <= ?) OR (started_date_time IS NULL AND scheduled_date_time >= ? AND scheduled_date_time <= ?)",
			start, end, start, end), nil
}

// SummarizeRuns is Graph's runs/summary: failed runs are failed or completedWithErrors.
func (s *Store) SummarizeRuns(ctx context.Context, workflowID string, start, end time.Time) (*RunSummary, error) {
	runs, err := s.runsInWindow(ctx, workflowID, start, end)
	if err != nil {
		return nil, err
	}
	var out RunSummary
	err = runs.Select(`
		COALESCE(SUM(CASE WHEN processing_status IN ('failed', 'completedWithErrors') THEN 1 ELSE 0 END), 0) AS failed_runs,
		COALESCE(SUM(failed_tasks_count), 0) AS failed_tasks,
		COALESCE(SUM(CASE WHEN processing_status = 'completed' THEN 1 ELSE 0 END), 0) AS successful_runs,
		COUNT(*) AS total_runs,
		COALESCE(SUM(total_tasks_count), 0) AS total_tasks,
		COALESCE(SUM(total_users_count), 0) AS total_users`).Scan(&out).Error
	return &out, err
}

// SummarizeUsers is Graph's userProcessingResults/summary, from the results of the runs in the
// window: a user processing result is one (run, user) pair; it failed when any of its tasks
// failed (completedWithErrors counts as failed, rule R5) and succeeded when all completed.
func (s *Store) SummarizeUsers(ctx context.Context, workflowID string, start, end time.Time) (*UserSummary, error) {
	runs, err := s.runsInWindow(ctx, workflowID, start, end)
	if err != nil {
		return nil, err
	}
	perUser := s.scoped(ctx, tableResults).Select(`run_id, subject_id, COUNT(*) AS tasks,
		SUM(CASE WHEN processing_status IN ('failed', 'completedWithErrors') THEN 1 ELSE 0 END) AS failed,
		SUM(CASE WHEN processing_status = 'completed' THEN 1 ELSE 0 END) AS completed`).
		Where("run_id IN (?)", runs.Select("id")).
		Group("run_id, subject_id")
	var out UserSummary
	err = s.db.WithContext(ctx).Raw(`SELECT COALESCE(SUM(failed), 0) AS failed_tasks,
		COALESCE(SUM(CASE WHEN failed > 0 THEN 1 ELSE 0 END), 0) AS failed_users,
		COALESCE(SUM(CASE WHEN completed = tasks THEN 1 ELSE 0 END), 0) AS successful_users,
		COALESCE(SUM(tasks), 0) AS total_tasks, COUNT(*) AS total_users FROM (?) AS u`, perUser).Scan(&out).Error
	return &out, err
}
