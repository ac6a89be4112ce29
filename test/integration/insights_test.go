package integration_test

import (
	"cmp"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
)

// insightFigures are the counters of workflowsInsightsSummary and of one insights group.
type insightFigures struct {
	Key                                      string
	TotalRuns, SuccessfulRuns, FailedRuns    int
	TotalUsers, SuccessfulUsers, FailedUsers int
	TotalTasks, SuccessfulTasks, FailedTasks int
}

// expectInsights computes, from the fixture files alone, the insights of the window grouped by
// key (a function of a run and, for results, the result; "" groups everything).
func expectInsights(f *historyFixture, start, end time.Time, key func(r fxRun, res *fxResult) string) map[string]*insightFigures {
	in := map[string]fxRun{}
	for _, r := range f.runs {
		at := r.ScheduledDateTime
		if r.StartedDateTime != nil {
			at = *r.StartedDateTime
		}
		if !at.Before(start) && !at.After(end) {
			in[r.ID] = r
		}
	}
	out := map[string]*insightFigures{}
	group := func(k string) *insightFigures {
		if out[k] == nil {
			out[k] = &insightFigures{Key: k}
		}
		return out[k]
	}
	type user struct{ tasks, completed, failed int }
	users := map[[3]string]*user{} // (key, run, subject)
	runsOf := map[[2]string]bool{} // (key, run)
	for i := range f.results {
		res := &f.results[i]
		r, ok := in[res.run]
		if !ok {
			continue
		}
		k := key(r, res)
		g := group(k)
		runsOf[[2]string{k, r.ID}] = true
		u := users[[3]string{k, r.ID, res.Subject.ID}]
		if u == nil {
			u = &user{}
			users[[3]string{k, r.ID, res.Subject.ID}] = u
		}
		u.tasks++
		g.TotalTasks++
		switch res.ProcessingStatus {
		case "completed":
			u.completed++
			g.SuccessfulTasks++
		case "failed", "completedWithErrors":
			u.failed++
			g.FailedTasks++
		}
	}
	for k, u := range users {
		g := group(k[0])
		g.TotalUsers++
		if u.failed > 0 {
			g.FailedUsers++
		}
		if u.completed == u.tasks {
			g.SuccessfulUsers++
		}
	}
	for _, r := range in { // runs without results count too, in their run-level group
		if key(r, nil) != "\x00" {
			runsOf[[2]string{key(r, nil), r.ID}] = true
		}
	}
	for kr := range runsOf {
		g := group(kr[0])
		g.TotalRuns++
		switch in[kr[1]].ProcessingStatus {
		case "completed":
			g.SuccessfulRuns++
		case "failed", "completedWithErrors":
			g.FailedRuns++
		}
	}
	return out
}

// TestInsightsFromFixture: Query.insights over two windows, every shape and grouping, against
// figures recomputed from the fixture files; a reversed window is BAD_USER_INPUT.
func TestInsightsFromFixture(t *testing.T) {
	f := readHistoryFixture(t)
	defNames := map[string]string{}
	for _, d := range readCollection[struct{ ID, DisplayName string }](t,
		filepath.Join(f.dir, "identityGovernance", "lifecycleWorkflows", "taskDefinitions.json")) {
		defNames[d.ID] = d.DisplayName
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, f.dir)
		windows := [][2]time.Time{
			{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
			// 2022-08-24 only: the second docs run (started 00:15 the next day) falls outside.
			{time.Date(2022, 8, 24, 0, 0, 0, 0, time.UTC), time.Date(2022, 8, 24, 23, 59, 59, 0, time.UTC)},
		}
		for _, w := range windows {
			var got struct {
				Insights struct {
					WorkflowsProcessedSummary    insightFigures
					WorkflowsProcessedByCategory map[string]int
					TopWorkflowsProcessedSummary []struct {
						WorkflowID, WorkflowDisplayName, WorkflowCategory string
						WorkflowVersion                                   int
						Workflow                                          struct{ ID string }
						insightFigures
					}
					TopTasksProcessedSummary []struct {
						TaskDefinitionID, TaskDefinitionDisplayName string
						TaskDefinition                              struct{ ID string }
						insightFigures
					}
					ByWorkflow, ByCategory, ByTaskDefinition, ByDay []insightFigures
					FailuresByReason                                []struct {
						FailureReason *string
						Count         int
					}
				}
			}
			const figures = `totalRuns successfulRuns failedRuns totalUsers successfulUsers failedUsers totalTasks successfulTasks failedTasks`
			graphtest.MustData(t, h, `query($s: DateTime!, $e: DateTime!) { insights(startDateTime: $s, endDateTime: $e) {
				workflowsProcessedSummary { `+figures+` }
				workflowsProcessedByCategory { totalJoinerRuns successfulJoinerRuns failedJoinerRuns totalMoverRuns successfulMoverRuns
					failedMoverRuns totalLeaverRuns successfulLeaverRuns failedLeaverRuns }
				topWorkflowsProcessedSummary { workflowId workflowDisplayName workflowCategory workflowVersion workflow { id }
					totalRuns successfulRuns failedRuns totalUsers successfulUsers failedUsers }
				topTasksProcessedSummary { taskDefinitionId taskDefinitionDisplayName taskDefinition { id }
					totalTasks successfulTasks failedTasks totalUsers successfulUsers failedUsers }
				byWorkflow: groups(groupBy: workflow) { key `+figures+` }
				byCategory: groups(groupBy: category) { key `+figures+` }
				byTaskDefinition: groups(groupBy: taskDefinition) { key `+figures+` }
				byDay: groups(groupBy: day) { key `+figures+` }
				failuresByReason { failureReason count } } }`,
				map[string]any{"s": w[0], "e": w[1]}, &got)
			in := got.Insights
			t.Logf("%v: %+v, failures %d reasons", w, in.WorkflowsProcessedSummary, len(in.FailuresByReason))
			all := expectInsights(f, w[0], w[1], func(fxRun, *fxResult) string { return "" })
			wantAll := insightFigures{}
			if all[""] != nil {
				wantAll = *all[""]
			}
			if in.WorkflowsProcessedSummary != wantAll {
				t.Errorf("%v: workflowsProcessedSummary %+v, want %+v", w, in.WorkflowsProcessedSummary, wantAll)
			}
			byWorkflow := expectInsights(f, w[0], w[1], func(r fxRun, _ *fxResult) string { return r.workflow })
			byCategory := expectInsights(f, w[0], w[1], func(r fxRun, _ *fxResult) string { return f.workflows[r.workflow].Category })
			byDefinition := expectInsights(f, w[0], w[1], func(r fxRun, res *fxResult) string {
				if res == nil {
					return "\x00" // a run counts for the definitions it ran
				}
				return res.Task.TaskDefinitionID
			})
			byDay := expectInsights(f, w[0], w[1], func(r fxRun, _ *fxResult) string {
				at := r.ScheduledDateTime
				if r.StartedDateTime != nil {
					at = *r.StartedDateTime
				}
				return at.UTC().Format(time.DateOnly)
			})
			for name, c := range map[string]struct {
				got  []insightFigures
				want map[string]*insightFigures
			}{"workflow": {in.ByWorkflow, byWorkflow}, "category": {in.ByCategory, byCategory},
				"taskDefinition": {in.ByTaskDefinition, byDefinition}, "day": {in.ByDay, byDay}} {
				want := sortedGroups(c.want)
				if !slices.Equal(c.got, want) {
					t.Errorf("%v: groups by %s\n got %+v\nwant %+v", w, name, c.got, want)
				}
			}
			for _, cat := range []string{"joiner", "mover", "leaver"} {
				g := byCategory[cat]
				if g == nil {
					g = &insightFigures{}
				}
				title := string(cat[0]-'a'+'A') + cat[1:]
				if in.WorkflowsProcessedByCategory["total"+title+"Runs"] != g.TotalRuns ||
					in.WorkflowsProcessedByCategory["successful"+title+"Runs"] != g.SuccessfulRuns ||
					in.WorkflowsProcessedByCategory["failed"+title+"Runs"] != g.FailedRuns {
					t.Errorf("%v: workflowsProcessedByCategory %v, want %s %+v", w, in.WorkflowsProcessedByCategory, cat, g)
				}
			}
			// Top workflows: most runs, then most users, then id.
			top := sortedGroups(byWorkflow)
			slices.SortStableFunc(top, func(a, b insightFigures) int {
				return cmp.Or(cmp.Compare(b.TotalRuns, a.TotalRuns), cmp.Compare(b.TotalUsers, a.TotalUsers))
			})
			if len(in.TopWorkflowsProcessedSummary) != len(top) {
				t.Fatalf("%v: %d top workflows, want %d", w, len(in.TopWorkflowsProcessedSummary), len(top))
			}
			for i, g := range top {
				tw := in.TopWorkflowsProcessedSummary[i]
				wf := f.workflows[g.Key]
				g.TotalTasks, g.SuccessfulTasks, g.FailedTasks, g.Key = 0, 0, 0, ""
				if tw.WorkflowID != wf.ID || tw.Workflow.ID != wf.ID || tw.WorkflowDisplayName != wf.DisplayName ||
					tw.WorkflowCategory != wf.Category || tw.WorkflowVersion != wf.Version || tw.insightFigures != g {
					t.Errorf("%v: top workflow %d = %+v, want %s with %+v", w, i, tw, wf.ID, g)
				}
			}
			tasks := sortedGroups(byDefinition)
			slices.SortStableFunc(tasks, func(a, b insightFigures) int {
				return cmp.Or(cmp.Compare(b.TotalTasks, a.TotalTasks), cmp.Compare(b.TotalUsers, a.TotalUsers))
			})
			if len(in.TopTasksProcessedSummary) != min(10, len(tasks)) {
				t.Fatalf("%v: %d top tasks, want %d", w, len(in.TopTasksProcessedSummary), min(10, len(tasks)))
			}
			for i, tt := range in.TopTasksProcessedSummary {
				g := tasks[i]
				id := g.Key
				g.TotalRuns, g.SuccessfulRuns, g.FailedRuns, g.Key = 0, 0, 0, ""
				if tt.TaskDefinitionID != id || tt.TaskDefinition.ID != id || tt.TaskDefinitionDisplayName != defNames[id] || tt.insightFigures != g {
					t.Errorf("%v: top task %d = %+v, want %s with %+v", w, i, tt, id, g)
				}
			}
			// Failures by reason.
			reasons := map[string]int{}
			for _, res := range f.results {
				if r, ok := runIn(f, res.run, w); ok && r && (res.ProcessingStatus == "failed" || res.ProcessingStatus == "completedWithErrors") {
					reasons[deref(res.FailureReason)]++
				}
			}
			gotReasons := map[string]int{}
			for _, fr := range in.FailuresByReason {
				gotReasons[deref(fr.FailureReason)] = fr.Count
			}
			if !mapsEqual(gotReasons, reasons) || len(reasons) == 0 {
				t.Errorf("%v: failuresByReason %v, want %v", w, gotReasons, reasons)
			}
		}

		resp := graphtest.Post(t, h, `{ insights(startDateTime: "2023-01-01T00:00:00Z", endDateTime: "2022-01-01T00:00:00Z") {
			workflowsProcessedSummary { totalRuns } } }`, nil)
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("reversed window: %+v", resp.Errors)
		}
	})
}

func sortedGroups(m map[string]*insightFigures) []insightFigures {
	var out []insightFigures
	for k, g := range m {
		if k != "\x00" {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b insightFigures) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// runIn tells whether the run is in the window.
func runIn(f *historyFixture, id string, w [2]time.Time) (bool, bool) {
	for _, r := range f.runs {
		if r.ID == id {
			at := r.ScheduledDateTime
			if r.StartedDateTime != nil {
				at = *r.StartedDateTime
			}
			return !at.Before(w[0]) && !at.After(w[1]), true
		}
	}
	return false, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
