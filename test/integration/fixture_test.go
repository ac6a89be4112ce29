package integration_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
)

// fixtureDir is a fixture folder of the repository's testdata/fixtures.
func fixtureDir(t testing.TB, name string) string { return msgraphtest.Fixture(t, name) }

// importedServer imports the fixture into a fresh store of the engine and returns the real mux.
func importedServer(t testing.TB, e dbtest.Engine, dir string) http.Handler {
	store := e.Open(t)
	if _, err := msgraph.ImportDir(context.Background(), store, dir); err != nil {
		t.Fatalf("import %s: %v", dir, err)
	}
	return server.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

func TestDocsFixtureAnswers(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	want := msgraphtest.ReadExpected(t, dir)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		checkDocsFixtureAnswers(t, importedServer(t, e, dir), want)
	})
}

// checkDocsFixtureAnswers asks h, a gateway holding the docs fixture, everything expected.json
// knows: lists, filters, runs, summary windows and every report with its relationships.
func checkDocsFixtureAnswers(t *testing.T, h http.Handler, want msgraphtest.Expected) {
	t.Helper()
	for wfID, wf := range want.Workflows {
		var got struct {
			Workflow struct {
				TaskReports struct {
					TotalCount int
					Nodes      []struct{ ID, ProcessingStatus string }
				}
			}
			Failed    struct{ Nodes []struct{ ID string } }
			Results   struct{ TotalCount int }
			FailedTPR struct{ Nodes []struct{ ID string } }
		}
		graphtest.MustData(t, h, `query($id: ID!) {
			workflow(id: $id) { taskReports(first: 500) { totalCount nodes { id processingStatus } } }
			failed: taskReports(workflowId: $id, where: {failedUsersCount: {gt: 0}}) { nodes { id } }
			results: taskProcessingResults(workflowId: $id) { totalCount }
			failedTPR: taskProcessingResults(workflowId: $id, where: {processingStatus: {eq: failed}}) { nodes { id } }
		}`, map[string]any{"id": wfID}, &got)
		var ids []string
		byStatus := map[string][]string{}
		for _, n := range got.Workflow.TaskReports.Nodes {
			ids = append(ids, n.ID)
			byStatus[n.ProcessingStatus] = append(byStatus[n.ProcessingStatus], n.ID)
		}
		assertSameIDs(t, "reports of workflow "+wfID, ids, wf.ReportIDs)
		if got.Workflow.TaskReports.TotalCount != len(wf.ReportIDs) {
			t.Errorf("totalCount = %d, want %d", got.Workflow.TaskReports.TotalCount, len(wf.ReportIDs))
		}
		for status, want := range wf.ReportsByStatus {
			assertSameIDs(t, "reports with status "+status, byStatus[status], want)
		}
		assertSameIDs(t, "reports with failures", nodeIDs(got.Failed.Nodes), wf.ReportsWithFailures)
		assertSameIDs(t, "failed results", nodeIDs(got.FailedTPR.Nodes), wf.FailedTprIDs)
		if got.Results.TotalCount != wf.TprCount {
			t.Errorf("results of workflow: %d, want %d", got.Results.TotalCount, wf.TprCount)
		}

		for runID, want := range wf.Runs {
			var byRun struct {
				Run struct {
					TaskReports struct{ Nodes []struct{ ID string } }
				}
				TaskReports struct{ Nodes []struct{ ID string } }
			}
			graphtest.MustData(t, h, `query($run: ID!) {
				run(id: $run) { taskReports { nodes { id } } }
				taskReports(runId: $run) { nodes { id } }
			}`, map[string]any{"run": runID}, &byRun)
			assertSameIDs(t, "Run.taskReports of "+runID, nodeIDs(byRun.Run.TaskReports.Nodes), want)
			assertSameIDs(t, "taskReports(runId) of "+runID, nodeIDs(byRun.TaskReports.Nodes), want)
		}

		for _, s := range wf.Summaries {
			var got struct {
				TaskReportSummary db.TaskReportSummary
				Workflow          struct{ TaskReportSummary db.TaskReportSummary }
			}
			graphtest.MustData(t, h, `query($id: ID!, $s: DateTime!, $e: DateTime!) {
				taskReportSummary(workflowId: $id, startDateTime: $s, endDateTime: $e) { successfulTasks failedTasks unprocessedTasks totalTasks }
				workflow(id: $id) { taskReportSummary(startDateTime: $s, endDateTime: $e) { successfulTasks failedTasks unprocessedTasks totalTasks } }
			}`, map[string]any{"id": wfID, "s": s.StartDateTime, "e": s.EndDateTime}, &got)
			if got.TaskReportSummary != s.TaskReportSummary || got.Workflow.TaskReportSummary != s.TaskReportSummary {
				t.Errorf("summary [%s, %s] = %+v / %+v, want %+v", s.StartDateTime, s.EndDateTime,
					got.TaskReportSummary, got.Workflow.TaskReportSummary, s.TaskReportSummary)
			}
		}
	}

	for id, want := range want.Reports {
		var got struct {
			TaskReport struct {
				msgraphtest.ExpectedReport
				Task                  struct{ ID string }
				TaskDefinition        struct{ ID string }
				Run                   struct{ ID string }
				TaskProcessingResults struct{ Nodes []struct{ ID string } }
			}
		}
		graphtest.MustData(t, h, `query($id: ID!) { taskReport(id: $id) {
			id runId processingStatus successfulUsersCount failedUsersCount unprocessedUsersCount totalUsersCount
			startedDateTime completedDateTime lastUpdatedDateTime
			task { id } taskDefinition { id } run { id } taskProcessingResults { nodes { id } }
		} }`, map[string]any{"id": id}, &got)
		r := got.TaskReport
		assertReport(t, r.ExpectedReport, want)
		if r.Task.ID != want.TaskID || r.TaskDefinition.ID != want.TaskDefinitionID || r.Run.ID != want.RunID {
			t.Errorf("report %s relations: task %s, definition %s, run %s", id, r.Task.ID, r.TaskDefinition.ID, r.Run.ID)
		}
		assertSameIDs(t, "results of report "+id, nodeIDs(r.TaskProcessingResults.Nodes), want.TprIDs)
	}
}

// assertReport compares a report's properties; its relationships are compared through the API's
// own fields where a test selects them.
func assertReport(t testing.TB, got, want msgraphtest.ExpectedReport) {
	t.Helper()
	got.TaskID, got.TaskDefinitionID, got.TprIDs = want.TaskID, want.TaskDefinitionID, want.TprIDs
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report %s:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func nodeIDs(nodes []struct{ ID string }) []string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	return ids
}

// assertSameIDs compares as sets: Graph gives lists no order, and the gateway's default is its own.
func assertSameIDs(t testing.TB, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %v, want %v", what, g, w)
	}
}

func TestUnknownIDsAndBadWindows(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		unknown := "00000000-0000-0000-0000-000000000000"
		resp := graphtest.Post(t, h, `query($id: ID!) {
			workflow(id: $id) { id } run(id: $id) { id } taskReport(id: $id) { id }
			taskProcessingResult(id: $id) { id } taskDefinition(id: $id) { id } node(id: $id) { id }
			taskReportSummary(workflowId: $id, startDateTime: "2022-01-01T00:00:00Z", endDateTime: "2023-01-01T00:00:00Z") { totalTasks }
		}`, map[string]any{"id": unknown})
		if len(resp.Errors) > 0 || resp.Status != http.StatusOK {
			t.Fatalf("unknown ids: status %d, errors %+v", resp.Status, resp.Errors)
		}
		var data map[string]any
		_ = json.Unmarshal(resp.Data, &data)
		for field, v := range data {
			if v != nil {
				t.Errorf("%s(unknown id) = %v, want null", field, v)
			}
		}

		// Graph compares ids case-insensitively; so does the gateway.
		var upper struct{ Workflow, Node struct{ ID string } }
		graphtest.MustData(t, h, `{ workflow(id: "14879E66-9EA9-48D0-804D-8FEA672D0341") { id }
			node(id: "3A3BEA11-99CA-462D-86FB-D283DB8D734A") { id } }`, nil, &upper)
		if upper.Workflow.ID != "14879e66-9ea9-48d0-804d-8fea672d0341" || upper.Node.ID != "3a3bea11-99ca-462d-86fb-d283db8d734a" {
			t.Errorf("upper-case ids found %+v", upper)
		}

		for _, q := range []string{
			`{ taskReportSummary(workflowId: "14879e66-9ea9-48d0-804d-8fea672d0341", startDateTime: "2022-08-26T00:00:00Z", endDateTime: "2022-08-24T00:00:00Z") { totalTasks } }`,
			`{ workflow(id: "14879e66-9ea9-48d0-804d-8fea672d0341") { taskReportSummary(startDateTime: "2022-08-26T00:00:00Z", endDateTime: "2022-08-24T00:00:00Z") { totalTasks } } }`,
			`{ workflow(id: "14879e66-9ea9-48d0-804d-8fea672d0341") { runSummary(startDateTime: "2022-08-26T00:00:00Z", endDateTime: "2022-08-24T00:00:00Z") { totalRuns } } }`,
		} {
			resp := graphtest.Post(t, h, q, nil)
			if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" {
				t.Errorf("reversed window: %+v, want one BAD_USER_INPUT error", resp.Errors)
			}
		}
	})
}
