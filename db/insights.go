package db

import (
	"context"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Tenant-wide insights: Graph's lifecycleWorkflows/insights functions over a window, and the same
// figures grouped. A run is in the window by the rule of runSummary (started in it, or scheduled
// in it while not started); its users and task executions come with it. Runs are counted from
// the runs table, users and tasks from the task processing results (one user per (run, subject)
// pair, failed when any of their tasks failed, successful when all completed: userSummary's rule).

// InsightsSummary is Graph's workflowsInsightsSummary, and the figures of one group.
type InsightsSummary struct {
	Key             string
	TotalRuns       int
	SuccessfulRuns  int
	FailedRuns      int
	TotalUsers      int
	SuccessfulUsers int
	FailedUsers     int
	TotalTasks      int
	SuccessfulTasks int
	FailedTasks     int
}

// InsightsGroupBy is how Insights groups.
type InsightsGroupBy string

const (
	InsightsByWorkflow       InsightsGroupBy = "workflow"
	InsightsByCategory       InsightsGroupBy = "category"
	InsightsByTaskDefinition InsightsGroupBy = "taskDefinition"
	InsightsByDay            InsightsGroupBy = "day"
	insightsAll              InsightsGroupBy = ""
)

// InsightsGroupBys lists the groupings in the order the API shows them.
var InsightsGroupBys = []InsightsGroupBy{InsightsByWorkflow, InsightsByCategory, InsightsByTaskDefinition, InsightsByDay}

// FailureReasonCount is how many failed task executions carry one failure reason (nil: none).
type FailureReasonCount struct {
	FailureReason *string
	Count         int
}

// CheckWindow refuses a reversed window, as every summary does.
func CheckWindow(start, end time.Time) error {
	if start.After(end) {
		return badInput("startDateTime", "startDateTime must not be after endDateTime")
	}
	return nil
}

// insightsWindow checks and normalizes a window as the other summaries do.
func insightsWindow(start, end time.Time) (time.Time, time.Time, error) {
	if err := CheckWindow(start, end); err != nil {
		return start, end, err
	}
	// The stores keep microseconds: finer bounds would compare differently on the two engines.
	return start.UTC().Truncate(time.Microsecond), end.UTC().Truncate(time.Microsecond), nil
}

// runsInWindowAll narrows q to the runs (named r) in the window.
func runsInWindowAll(q *gorm.DB, r string, start, end time.Time) *gorm.DB {
	return q.Where("(("+r+".started_date_time >= ? AND "+r+".started_date_time <= ?) OR ("+r+".started_date_time IS NULL AND "+
		r+".scheduled_date_time >= ? AND "+r+".scheduled_date_time <= ?))", start, end, start, end)
}

// groupKey is the SQL of a grouping's key over runs (named r), workflows w and, for task
// definitions, task reports tr.
func (s *Store) groupKey(by InsightsGroupBy, r string) (string, error) {
	switch by {
	case insightsAll:
		return "''", nil
	case InsightsByWorkflow:
		return r + ".workflow_id", nil
	case InsightsByCategory:
		return "w.category", nil
	case InsightsByTaskDefinition:
		return "tr.task_definition_id", nil
	case InsightsByDay:
		return s.day("COALESCE(" + r + ".started_date_time, " + r + ".scheduled_date_time)"), nil
	}
	return "", badInput("groupBy", "cannot group by %q", by)
}

// InsightsGroups computes the insights of the window per group, sorted by key; by "" is one
// group of everything (Graph's workflowsProcessedSummary).
func (s *Store) InsightsGroups(ctx context.Context, start, end time.Time, by InsightsGroupBy) ([]*InsightsSummary, error) {
	start, end, err := insightsWindow(start, end)
	if err != nil {
		return nil, err
	}
	runKey, err := s.groupKey(by, tableRuns)
	if err != nil {
		return nil, err
	}
	// Runs: one statement over the runs and their workflow w (and, by task definition, the run's
	// reports: a run counts for each definition it ran).
	runs := s.scoped(ctx, tableRuns).Joins("JOIN workflows w ON " + sameTenant("w", tableRuns) + " AND w.id = runs.workflow_id")
	if by == InsightsByTaskDefinition {
		runs = runs.Joins("JOIN task_reports tr ON " + sameTenant("tr", tableRuns) + " AND tr.run_id = runs.id")
	}
	runs = runsInWindowAll(runs, tableRuns, start, end).Select(runKey + ` AS key,
		COUNT(DISTINCT runs.id) AS total_runs,
		COUNT(DISTINCT CASE WHEN runs.processing_status = 'completed' THEN runs.id END) AS successful_runs,
		COUNT(DISTINCT CASE WHEN runs.processing_status IN ('failed', 'completedWithErrors') THEN runs.id END) AS failed_runs`)
	if by != insightsAll { // PostgreSQL refuses to group by a constant
		runs = runs.Group(runKey)
	}
	var runRows []*InsightsSummary
	if err := runs.Scan(&runRows).Error; err != nil {
		return nil, err
	}
	// Users and tasks: the results of those runs, one row per (group, run, subject) first.
	key, _ := s.groupKey(by, "r")
	p := tableResults
	results := s.scoped(ctx, p).Joins("JOIN runs r ON " + sameTenant("r", p) + " AND r.id = " + p + ".run_id").
		Joins("JOIN workflows w ON " + sameTenant("w", p) + " AND w.id = " + p + ".workflow_id")
	if by == InsightsByTaskDefinition {
		results = results.Joins("JOIN task_reports tr ON " + sameTenant("tr", p) + " AND tr.id = " + p + ".task_report_id")
	}
	perUser := runsInWindowAll(results, "r", start, end).Select(key + " AS key, " + p + ".run_id, " + p + `.subject_id, COUNT(*) AS tasks,
		SUM(CASE WHEN ` + p + `.processing_status IN ('failed', 'completedWithErrors') THEN 1 ELSE 0 END) AS failed,
		SUM(CASE WHEN ` + p + `.processing_status = 'completed' THEN 1 ELSE 0 END) AS completed`).
		Group(strings.TrimPrefix(key+", ", "'', ") + p + ".run_id, " + p + ".subject_id")
	var userRows []*InsightsSummary
	err = s.db.WithContext(ctx).Raw(`SELECT key, COUNT(*) AS total_users,
		COALESCE(SUM(CASE WHEN completed = tasks THEN 1 ELSE 0 END), 0) AS successful_users,
		COALESCE(SUM(CASE WHEN failed > 0 THEN 1 ELSE 0 END), 0) AS failed_users,
		COALESCE(SUM(tasks), 0) AS total_tasks, COALESCE(SUM(completed), 0) AS successful_tasks,
		COALESCE(SUM(failed), 0) AS failed_tasks FROM (?) AS u GROUP BY key`, perUser).Scan(&userRows).Error
	if err != nil {
		return nil, err
	}
	byKey := map[string]*InsightsSummary{}
	for _, r := range runRows {
		byKey[r.Key] = r
	}
	for _, u := range userRows {
		g := byKey[u.Key]
		if g == nil {
			g = &InsightsSummary{Key: u.Key}
			byKey[u.Key] = g
		}
		g.TotalUsers, g.SuccessfulUsers, g.FailedUsers = u.TotalUsers, u.SuccessfulUsers, u.FailedUsers
		g.TotalTasks, g.SuccessfulTasks, g.FailedTasks = u.TotalTasks, u.SuccessfulTasks, u.FailedTasks
	}
	out := make([]*InsightsSummary, 0, len(byKey))
	for _, g := range byKey {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// InsightsSummary is Graph's workflowsProcessedSummary over the window.
func (s *Store) InsightsSummary(ctx context.Context, start, end time.Time) (*InsightsSummary, error) {
	groups, err := s.InsightsGroups(ctx, start, end, insightsAll)
	if err != nil || len(groups) == 0 {
		return &InsightsSummary{}, err
	}
	return groups[0], nil
}

// FailuresByReason counts the failed task executions of the window's runs by failure reason,
// most frequent first (then by reason; no reason last).
func (s *Store) FailuresByReason(ctx context.Context, start, end time.Time) ([]*FailureReasonCount, error) {
	start, end, err := insightsWindow(start, end)
	if err != nil {
		return nil, err
	}
	q := s.scoped(ctx, tableResults).Joins("JOIN runs r ON " + sameTenant("r", tableResults) + " AND r.id = task_processing_results.run_id").
		Where("task_processing_results.processing_status IN ('failed', 'completedWithErrors')")
	var out []*FailureReasonCount
	err = runsInWindowAll(q, "r", start, end).Select("task_processing_results.failure_reason, COUNT(*) AS count").
		Group("task_processing_results.failure_reason").
		Order("count DESC, task_processing_results.failure_reason IS NULL, task_processing_results.failure_reason").Scan(&out).Error
	return out, err
}
