package integration_test

import (
	"context"
	"strconv"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
)

// historyQuery reads every relationship the history added, nested: a workflow's versions, its
// user results with subject, run, workflow, version, own task results and the subject's history,
// and its runs' user results.
const historyQuery = `query($wf: ID!, $first: Int!) { workflow(id: $wf) {
	versions { versionNumber workflow { id } }
	userProcessingResults(first: $first) { totalCount nodes { id processingStatus
		subject { id displayName processingResults(first: 5) { totalCount nodes { id run { id } } } }
		run { id } workflow { id } version { versionNumber }
		taskProcessingResults(first: 5) { totalCount nodes { id task { id } } } } }
	runs(first: $first) { nodes { id userProcessingResults(first: 5) { totalCount nodes { id subject { id } } } } } } }`

const insightsQuery = `{ insights(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") {
	workflowsProcessedSummary { totalRuns totalUsers totalTasks }
	workflowsProcessedByCategory { totalJoinerRuns totalLeaverRuns }
	topWorkflowsProcessedSummary { workflowId workflow { id displayName } totalRuns }
	topTasksProcessedSummary { taskDefinitionId taskDefinition { id displayName } totalTasks }
	groups(groupBy: day) { key totalRuns } failuresByReason { failureReason count } } }`

// TestHistoryStatementsConstant: every new relationship is one statement per level, so the
// statements of historyQuery do not grow with the page size; insights send a fixed number.
func TestHistoryStatementsConstant(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		opts := demo.OptionsForResults(3_000)
		opts.Now = benchNow
		if _, err := demo.Seed(context.Background(), store, opts, nil); err != nil {
			t.Fatal(err)
		}
		h := quietMux(store)
		wf := biggestWorkflow(t, h)
		var counts []int64
		for _, first := range []int{1, 10, 50} {
			counts = append(counts, statementsOf(t, store, h, historyQuery, map[string]any{"wf": wf, "first": first}))
		}
		for _, n := range counts {
			if n != counts[0] || n > 20 {
				t.Fatalf("statements for pages of 1, 10, 50: %v; want one constant count of at most 20", counts)
			}
		}
		insights := statementsOf(t, store, h, insightsQuery, nil)
		if insights > 16 {
			t.Errorf("insights sent %d statements, want at most 16 (two per shape)", insights)
		}
		t.Logf("statements per history query: %d; per insights query: %d", counts[0], insights)
	})
}

// BenchmarkHistoryQuery: historyQuery over the demo data set, 50 user results per page.
func BenchmarkHistoryQuery(b *testing.B) {
	for _, results := range benchResults() {
		store := demoStore(b, results)
		h := quietMux(store)
		wf := biggestWorkflow(b, h)
		b.Run("results="+strconv.Itoa(results), func(b *testing.B) {
			runQuery(b, store, h, historyQuery, map[string]any{"wf": wf, "first": 50})
		})
	}
}

// BenchmarkInsights: the whole insights object over every run of the demo data set.
func BenchmarkInsights(b *testing.B) {
	for _, results := range benchResults() {
		store := demoStore(b, results)
		h := quietMux(store)
		b.Run("results="+strconv.Itoa(results), func(b *testing.B) { runQuery(b, store, h, insightsQuery, nil) })
	}
}
