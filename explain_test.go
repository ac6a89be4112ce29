package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"lcw-gateway/graph/graphtest"
)

// fullScan is SQLite's plan line for reading a whole table (or a whole index of it) of the two
// large tables, under their names or the aliases the store gives them.
var fullScan = regexp.MustCompile(`^SCAN (task_processing_results|task_reports|tr)\b`)

// TestQueryPlansUseIndexes runs what a dashboard asks through the real handler, records every
// statement the store sends, and fails on a plan that scans the large tables instead of
// searching an index.
func TestQueryPlansUseIndexes(t *testing.T) {
	store := demoStore(t, 10_000)
	h := quietMux(store)
	wf := biggestWorkflow(t, h)
	var run struct {
		Workflow struct {
			Runs struct{ Nodes []struct{ ID string } }
		}
	}
	graphtest.MustData(t, h, `query($wf: ID!) { workflow(id: $wf) { runs(first: 1) { nodes { id } } } }`, map[string]any{"wf": wf}, &run)
	var results struct {
		TaskProcessingResults struct {
			PageInfo struct{ EndCursor string }
			Nodes    []struct{ Subject struct{ ID string } }
		}
	}
	failedFirst := `query($wf: ID!, $after: String) { taskProcessingResults(workflowId: $wf, first: 50, after: $after,
		where: {processingStatus: {in: [failed, completedWithErrors]}}, orderBy: [{field: completedDateTime, direction: desc}]) {
		pageInfo { endCursor } nodes { id subject { id } } } }`
	graphtest.MustData(t, h, failedFirst, map[string]any{"wf": wf}, &results)
	window := map[string]any{"wf": wf, "s": benchNow.AddDate(0, 0, -30).Format(time.RFC3339), "e": benchNow.Format(time.RFC3339)}

	var mu sync.Mutex
	type statement struct {
		sql  string
		vars []any
	}
	var seen []statement
	store.TraceStatements(func(sql string, vars []any) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, statement{sql, append([]any(nil), vars...)})
	})
	for _, q := range []struct {
		query string
		vars  map[string]any
	}{
		{dashboardQuery, map[string]any{"wf": wf, "first": 50}},
		{failedFirst, map[string]any{"wf": wf, "after": results.TaskProcessingResults.PageInfo.EndCursor}},
		{`query($wf: ID!) { taskReports(workflowId: $wf, where: {failedUsersCount: {gt: 0}}, orderBy: [{field: completedDateTime, direction: desc}]) { totalCount nodes { id } } }`, map[string]any{"wf": wf}},
		{`query($wf: ID!) { taskReports(workflowId: $wf, where: {processingStatus: {eq: failed}}) { nodes { id } } }`, map[string]any{"wf": wf}},
		{`query($run: ID!) { run(id: $run) { taskReports { totalCount nodes { id } } taskProcessingResults(where: {processingStatus: {eq: failed}}) { totalCount nodes { id } } } }`, map[string]any{"run": run.Workflow.Runs.Nodes[0].ID}},
		{`query($run: ID!) { taskReports(runId: $run) { nodes { id } } }`, map[string]any{"run": run.Workflow.Runs.Nodes[0].ID}},
		{`query($wf: ID!) { taskProcessingResults(workflowId: $wf, orderBy: [{field: createdDateTime}]) { nodes { id } } }`, map[string]any{"wf": wf}},
		{`query($wf: ID!, $s: DateTime!, $e: DateTime!) {
			taskReportSummary(workflowId: $wf, startDateTime: $s, endDateTime: $e) { totalTasks }
			workflow(id: $wf) {
				byTask: taskReportStats(startDateTime: $s, endDateTime: $e, groupBy: task) { key }
				byDay: taskReportStats(startDateTime: $s, endDateTime: $e, groupBy: day) { key }
				runSummary(startDateTime: $s, endDateTime: $e) { totalRuns }
				userSummary(startDateTime: $s, endDateTime: $e) { totalUsers } } }`, window},
	} {
		var out map[string]any
		graphtest.MustData(t, h, q.query, q.vars, &out)
	}
	store.TraceStatements(nil)

	if len(seen) < 15 {
		t.Fatalf("traced only %d statements", len(seen))
	}
	for _, s := range seen {
		plan, err := store.Explain(context.Background(), s.sql, s.vars)
		if err != nil {
			t.Fatalf("explain %s: %v", s.sql, err)
		}
		for _, line := range plan {
			if fullScan.MatchString(line) {
				t.Errorf("full scan: %s\n  in: %s\n  plan: %s", line, s.sql, strings.Join(plan, " | "))
			}
		}
	}
}
