package integration_test

import (
	"path/filepath"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph/msgraphtest"
)

// TestSummaryWindowAtMicrosecondBoundaries: Graph writes seven fractional digits (100 ns); both
// engines keep six. The import truncates what it stores, the API truncates the window bounds it
// reads, and the output writes the seventh digit as 0, so SQLite (text) and PostgreSQL
// (TIMESTAMPTZ) answer every window alike, one microsecond either side of a report included.
//
// expected.json's windows end exactly on a report's start; these cases sit next to such
// boundaries, and the fixture's last report is given a start whose seventh digit is 9, as Graph
// may send, to show that the stored value is truncated, not rounded.
func TestSummaryWindowAtMicrosecondBoundaries(t *testing.T) {
	dir := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
	editValues(t, filepath.Join(dir, "identityGovernance", "lifecycleWorkflows", "workflows", docsWorkflow, "taskReports.json"),
		func(v map[string]any) {
			if v["id"] == "e3dd0719-a50a-463d-b32d-7176fa4519e4" {
				v["startedDateTime"] = "2022-08-25T00:15:05.2771389Z" // stored as .277138
			}
		})
	// Reports of the docs workflow (2 users each) start at 23:28:04.578533, 23:28:04.586128,
	// 00:15:05.255810 and, after the edit, 00:15:05.277138(9).
	const first = "2022-08-24T23:28:04.5785330Z"
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		var report struct {
			TaskReport struct{ StartedDateTime string }
		}
		graphtest.MustData(t, h, `{ taskReport(id: "e3dd0719-a50a-463d-b32d-7176fa4519e4") { startedDateTime } }`, nil, &report)
		if got := report.TaskReport.StartedDateTime; got != "2022-08-25T00:15:05.2771380Z" {
			t.Errorf("startedDateTime imported as .2771389 reads %s, want .2771380 (truncated)", got)
		}
		for _, tc := range []struct {
			start, end string
			total      int
		}{
			{first, "2022-08-25T00:15:05.2771380Z", 8},                                    // end on the last start
			{first, "2022-08-25T00:15:05.2771389Z", 8},                                    // the same, as Graph sent it
			{first, "2022-08-25T00:15:05.2771370Z", 6},                                    // a microsecond short of it
			{first, "2022-08-25T00:15:05.2771379Z", 6},                                    // 100 ns short of the stored value
			{first, "2022-08-25T00:15:05.2771381Z", 8},                                    // 100 ns past it
			{"2022-08-24T23:28:04.5785331Z", "2022-08-26T00:00:00Z", 8},                   // 100 ns after the first start
			{"2022-08-24T23:28:04.5785340Z", "2022-08-26T00:00:00Z", 6},                   // a microsecond after it
			{"2022-08-25T00:15:05.2558100Z", "2022-08-25T00:15:05.2558109Z", 2},           // a window of one report
			{"2022-08-25T04:28:04.5785330+05:00", "2022-08-25T05:15:05.2771379+05:00", 6}, // another offset
		} {
			var got struct{ TaskReportSummary struct{ TotalTasks int } }
			graphtest.MustData(t, h, `query($id: ID!, $s: DateTime!, $e: DateTime!) {
				taskReportSummary(workflowId: $id, startDateTime: $s, endDateTime: $e) { totalTasks } }`,
				map[string]any{"id": docsWorkflow, "s": tc.start, "e": tc.end}, &got)
			if got.TaskReportSummary.TotalTasks != tc.total {
				t.Errorf("[%s, %s]: totalTasks %d, want %d", tc.start, tc.end, got.TaskReportSummary.TotalTasks, tc.total)
			}
		}
	})
}
