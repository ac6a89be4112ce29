package db_test

import (
	"context"
	"slices"
	"testing"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

// shown is the set of ids whose value the API shows as v (stored unknown values show as
// unknownFutureValue), computed from every row, not from a filter.
func shown[T any, E interface {
	~string
	IsKnown() bool
}](items []*T, id func(*T) string, value func(*T) E, v E) []string {
	var out []string
	for _, item := range items {
		got := value(item)
		if !got.IsKnown() || string(got) == "unknownFutureValue" {
			got = "unknownFutureValue"
		}
		if got == v {
			out = append(out, id(item))
		}
	}
	slices.Sort(out)
	return out
}

// Filters on an evolvable enum match what the output shows: eq, ne and in unknownFutureValue
// select exactly the rows with a stored value the API does not know.
func TestEnumFiltersMatchUnknownFutureValue(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		seedReads(t, s, storeTenant)
		ctx := tenant.WithTenant(context.Background(), storeTenant)
		wf := "w1"
		unknown, failed := db.StatusUnknownFutureValue, db.StatusFailed

		all, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, db.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		reportID := func(r *db.TaskReport) string { return r.ID }
		reportStatus := func(r *db.TaskReport) db.ProcessingStatus { return r.ProcessingStatus }
		reports := func(w *db.TaskReportWhere) []string {
			p, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, db.PageArgs{Where: w})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range p.Items {
				ids = append(ids, r.ID)
			}
			slices.Sort(ids)
			return ids
		}
		wantUnknown := shown(all.Items, reportID, reportStatus, unknown)
		if len(wantUnknown) == 0 {
			t.Fatal("the data holds no unknown status: the test would prove nothing")
		}
		var notUnknown []string
		for _, r := range all.Items {
			if !slices.Contains(wantUnknown, r.ID) {
				notUnknown = append(notUnknown, r.ID)
			}
		}
		slices.Sort(notUnknown)
		failedOrUnknown := append(shown(all.Items, reportID, reportStatus, failed), wantUnknown...)
		slices.Sort(failedOrUnknown)
		for name, c := range map[string]struct {
			where *db.TaskReportWhere
			want  []string
		}{
			"eq":     {&db.TaskReportWhere{ProcessingStatus: &db.ProcessingStatusFilter{Eq: &unknown}}, wantUnknown},
			"ne":     {&db.TaskReportWhere{ProcessingStatus: &db.ProcessingStatusFilter{Ne: &unknown}}, notUnknown},
			"in":     {&db.TaskReportWhere{ProcessingStatus: &db.ProcessingStatusFilter{In: []db.ProcessingStatus{failed, unknown}}}, failedOrUnknown},
			"not eq": {&db.TaskReportWhere{Not: &db.TaskReportWhere{ProcessingStatus: &db.ProcessingStatusFilter{Eq: &unknown}}}, notUnknown},
		} {
			if got := reports(c.where); !slices.Equal(got, c.want) {
				t.Errorf("reports with processingStatus %s unknownFutureValue = %v, want %v", name, got, c.want)
			}
		}

		runs, err := s.RunPages(ctx, db.ByWorkflow, []string{"w1"}, db.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		unknownType := db.ExecutionUnknownFutureValue
		filtered, err := s.RunPages(ctx, db.ByWorkflow, []string{"w1"}, db.PageArgs{Where: &db.RunWhere{
			ProcessingStatus: &db.ProcessingStatusFilter{Eq: &unknown}, WorkflowExecutionType: &db.ExecutionTypeFilter{In: []db.ExecutionType{unknownType}}}})
		if err != nil {
			t.Fatal(err)
		}
		var wantRuns, gotRuns []string
		for _, r := range runs["w1"].Items {
			if !r.ProcessingStatus.IsKnown() && !slices.Contains(db.ExecutionTypes, r.WorkflowExecutionType) {
				wantRuns = append(wantRuns, r.ID)
			}
		}
		for _, r := range filtered["w1"].Items {
			gotRuns = append(gotRuns, r.ID)
		}
		if len(wantRuns) == 0 || !slices.Equal(gotRuns, wantRuns) {
			t.Errorf("runs with unknown status and execution type = %v, want %v", gotRuns, wantRuns)
		}

		unknownCategory := db.WorkflowCategory("unknownFutureValue")
		for name, f := range map[string]*db.WorkflowCategoryFilter{"eq": {Eq: &unknownCategory}, "ne": {Ne: &unknownCategory}} {
			p, _, err := s.Workflows(ctx, db.PageArgs{Where: &db.WorkflowWhere{Category: f}}, false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Items {
				got = append(got, w.ID)
			}
			want := map[string][]string{"eq": {"w2"}, "ne": {"w1"}}[name] // w2's category is one Graph may add
			if !slices.Equal(got, want) {
				t.Errorf("workflows with category %s unknownFutureValue = %v, want %v", name, got, want)
			}
		}

		unknownFlag := db.TaskCategory("unknownFutureValue")
		joiner := db.TaskJoiner
		for flag, want := range map[*db.TaskCategory][]string{&unknownFlag: {"d3"}, &joiner: {"d1", "d3"}} {
			p, _, err := s.TaskDefinitions(ctx, db.PageArgs{Where: &db.TaskDefinitionWhere{Category: &db.TaskCategoryFilter{Has: flag}}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range p.Items {
				got = append(got, d.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("task definitions with category has %s = %v, want %v", *flag, got, want)
			}
		}
	})
}
