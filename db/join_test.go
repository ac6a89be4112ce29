package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

// TestPageJoinsFindWhatReadsByIDFind: on PostgreSQL, a page read's joins bring, for each row,
// exactly the object a read by id of its key finds (every column, in the caller's tenant, not
// the decoy's with the same ids), and nothing for a key whose target is missing (there are no foreign keys); the
// page itself is the page without joins. For one parent, several parents (the union) and a
// top-level page, forward and backward.
func TestPageJoinsFindWhatReadsByIDFind(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, ctx := seededTwice(t, e)
		day := time.Date(2025, 1, 5, 8, 0, 0, 0, time.UTC)
		// A report and a result whose task, definition, run and subject were never received.
		_, err := s.Write(ctx, db.Batch{
			TaskReports: []db.TaskReport{{ID: "rep9", WorkflowID: "w1", RunID: "r-gone", TaskID: "t-gone", TaskDefinitionID: "d-gone",
				ProcessingStatus: db.StatusFailed, LastUpdatedDateTime: day}},
			TaskProcessingResults: []db.TaskProcessingResult{{ID: "p9", WorkflowID: "w1", RunID: "r1", TaskReportID: "rep2", TaskID: "t-gone",
				SubjectID: "u-gone", CreatedDateTime: day, ProcessingStatus: db.StatusFailed}},
		})
		if err != nil {
			t.Fatal(err)
		}

		reportJoins := []db.Join{db.JoinTo[db.Task]("task_id"), db.JoinTo[db.TaskDefinition]("task_definition_id"),
			db.JoinTo[db.Run]("run_id"), db.JoinTo[db.Workflow]("workflow_id")}
		resultJoins := []db.Join{db.JoinTo[db.User]("subject_id"), db.JoinTo[db.Task]("task_id"), db.JoinTo[db.TaskReport]("task_report_id")}
		byID := map[db.Join]func([]string) (any, error){
			reportJoins[0]: func(ids []string) (any, error) { return s.TasksByID(ctx, ids) },
			reportJoins[1]: func(ids []string) (any, error) { return s.TaskDefinitionsByID(ctx, ids) },
			reportJoins[2]: func(ids []string) (any, error) { return s.RunsByID(ctx, ids) },
			reportJoins[3]: func(ids []string) (any, error) { return s.WorkflowsByID(ctx, ids) },
			resultJoins[0]: func(ids []string) (any, error) { return s.UsersByID(ctx, ids) },
			resultJoins[2]: func(ids []string) (any, error) { return s.TaskReportsByID(ctx, ids) },
		}
		// check compares what the joins found with reads by id of the keys the rows hold.
		joining := e.Name == "postgres" // SQLite reads to-one targets on their own (db.planJoins)
		check := func(name string, joined map[db.Join]db.Joined, joins []db.Join, keys func(db.Join) []string) {
			t.Helper()
			if !joining {
				if len(joined) > 0 {
					t.Errorf("%s on %s: joined %v", name, e.Name, joined)
				}
				return
			}
			for _, j := range joins {
				want, err := byID[j](keys(j)) // resultJoins[1] is reportJoins[0]
				if err != nil {
					t.Fatal(err)
				}
				wantMap := reflect.ValueOf(want)
				for _, k := range keys(j) {
					var w any
					if v := wantMap.MapIndex(reflect.ValueOf(k)); v.IsValid() {
						w = v.Interface()
					}
					if got, ok := joined[j][k]; !reflect.DeepEqual(got, w) || ok != (w != nil) {
						t.Errorf("%s, join on %s, %s: joined %+v, read by id %+v", name, j.Key, k, got, w)
					}
				}
			}
		}
		column := map[string]func(r *db.TaskReport) string{
			"task_id": func(r *db.TaskReport) string { return r.TaskID }, "task_definition_id": func(r *db.TaskReport) string { return r.TaskDefinitionID },
			"run_id": func(r *db.TaskReport) string { return r.RunID }, "workflow_id": func(r *db.TaskReport) string { return r.WorkflowID },
		}
		resultColumn := map[string]func(r *db.TaskProcessingResult) string{
			"subject_id": func(r *db.TaskProcessingResult) string { return r.SubjectID }, "task_id": func(r *db.TaskProcessingResult) string { return r.TaskID },
			"task_report_id": func(r *db.TaskProcessingResult) string { return r.TaskReportID },
		}

		wf, two := "w1", 2
		for _, args := range []db.PageArgs{{}, {First: &two}, {Last: &two}, {OrderBy: []db.OrderKey{{Field: "startedDateTime", Desc: true}}}} {
			plain, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, args)
			if err != nil {
				t.Fatal(err)
			}
			args.Joins = reportJoins
			page, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(page.Items, plain.Items) || page.HasNext != plain.HasNext || page.HasPrevious != plain.HasPrevious {
				t.Fatalf("TaskReports %+v: the joined page differs from the plain one", args)
			}
			if plain.Joined != nil {
				t.Errorf("a page read without joins has Joined %v", plain.Joined)
			}
			check("TaskReports", page.Joined, reportJoins, func(j db.Join) []string {
				var ids []string
				for _, r := range page.Items {
					ids = append(ids, column[j.Key](r))
				}
				return ids
			})
		}
		if found := len(mustPage(t, s, ctx, reportJoins).Joined[reportJoins[0]]); joining && found != 2 {
			t.Errorf("joined tasks of w1's reports: %d, want t1 and t2 (t-gone is missing)", found)
		}

		for _, parents := range [][]string{{"rep2"}, {"rep1", "rep2", "rep3", "rep9"}} {
			for _, args := range []db.PageArgs{{}, {First: &two}, {Last: &two}} {
				plain, err := s.TaskProcessingResultPages(ctx, db.ByTaskReport, parents, args)
				if err != nil {
					t.Fatal(err)
				}
				args.Joins = resultJoins
				pages, err := s.TaskProcessingResultPages(ctx, db.ByTaskReport, parents, args)
				if err != nil {
					t.Fatal(err)
				}
				var rows []*db.TaskProcessingResult
				for _, p := range parents {
					if !reflect.DeepEqual(pages[p].Items, plain[p].Items) {
						t.Fatalf("results of %v %+v: the joined page of %s differs from the plain one", parents, args, p)
					}
					rows = append(rows, pages[p].Items...)
				}
				check("TaskProcessingResultPages", pages[parents[0]].Joined, resultJoins, func(j db.Join) []string {
					var ids []string
					for _, r := range rows {
						ids = append(ids, resultColumn[j.Key](r))
					}
					return ids
				})
			}
		}

		if _, _, err := s.TaskReports(ctx, db.TaskReportFilter{}, db.PageArgs{Joins: []db.Join{db.JoinTo[db.User]("subject_id")}}); joining && err == nil {
			t.Error("a join on a column task_reports lacks was accepted")
		}
	})
}

func mustPage(t *testing.T, s *db.Store, ctx context.Context, joins []db.Join) *db.Page[db.TaskReport] {
	t.Helper()
	wf := "w1"
	p, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, db.PageArgs{Joins: joins})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPgxScanReadsAsDatabaseSQL: on PostgreSQL a read runs through pgx's own scan; it must give
// every model exactly the values database/sql gives (times with their location and
// microseconds, NULL and empty text, booleans, enums, JSON columns). Joined targets are decoded
// the same way and compared with reads by id in TestPageJoinsFindWhatReadsByIDFind.
func TestPgxScanReadsAsDatabaseSQL(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		if e.Name != "postgres" {
			t.Skip("pgx's own scan runs on PostgreSQL only")
		}
		s, ctx := seededTwice(t, e)
		at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
		empty, odd, yes := "", "quote \" backslash \\ ünï ✓", true
		_, err := s.Write(ctx, db.Batch{
			TaskDefinitions: []db.TaskDefinition{{ID: "d9", DisplayName: odd, Category: db.TaskCategories{db.TaskMover}, Version: 3,
				ContinueOnError: &yes, Description: &empty, Parameters: db.Parameters{{Name: "p", Values: []string{"a", odd}, ValueType: "string"}}}},
			Workflows: []db.Workflow{{ID: "w9", DisplayName: odd, Description: &empty, Category: db.WorkflowMover, IsSchedulingEnabled: true,
				CreatedDateTime: &at, LastModifiedDateTime: &at, DeletedDateTime: &at, NextScheduleRunDateTime: &at, MissingSinceDateTime: &at}},
			Tasks: []db.Task{{ID: "t9", WorkflowID: "w9", DisplayName: odd, Description: &odd, TaskDefinitionID: "d9", ContinueOnError: true, IsEnabled: true,
				Arguments: db.KeyValuePairs{{Name: "k", Value: &odd}, {Name: "n"}}, Category: db.TaskCategories{db.TaskJoiner, "futureFlag"}}},
			Runs: []db.Run{{ID: "r9", WorkflowID: "w9", ProcessingStatus: db.StatusFailed, WorkflowExecutionType: db.ExecutionOnDemand,
				ScheduledDateTime: at, StartedDateTime: &at, CompletedDateTime: &at, LastUpdatedDateTime: &at, MissingSinceDateTime: &at,
				TotalUsersCount: 1 << 30, FailedUsersCount: -1}},
			TaskReports: []db.TaskReport{{ID: "rep9", WorkflowID: "w9", RunID: "r9", TaskID: "t9", TaskDefinitionID: "d9", ProcessingStatus: "futureStatus",
				StartedDateTime: &at, CompletedDateTime: &at, LastUpdatedDateTime: at, TotalUsersCount: 7}},
			TaskProcessingResults: []db.TaskProcessingResult{{ID: "p9", WorkflowID: "w9", RunID: "r9", TaskReportID: "rep9", TaskID: "t9", SubjectID: "u9",
				CreatedDateTime: at, StartedDateTime: &at, CompletedDateTime: &at, ProcessingStatus: db.StatusFailed, FailureReason: &odd, ProcessingInfo: &empty}},
			Users: []db.User{{ID: "u9", DisplayName: &odd, UserPrincipalName: &empty, Mail: nil}},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Many rows: more distinct values of a repeated column than the scan remembers, runs of
		// the same parent, NULLs, strings across the text arena's chunks, and long ones beside it.
		var many db.Batch
		for i := range 300 {
			reason := strings.Repeat(fmt.Sprintf("reason %d ", i), 1+i%3*300)
			r := db.TaskProcessingResult{ID: fmt.Sprintf("many-%03d-%s", i, strings.Repeat("x", i%40)), WorkflowID: "w9", RunID: "r9",
				TaskReportID: fmt.Sprintf("rep-%d", i/7), TaskID: "t9", SubjectID: fmt.Sprintf("subject-%d", i%197), CreatedDateTime: at,
				ProcessingStatus: db.ProcessingStatus([]string{"completed", "failed", "inProgress"}[i%3])}
			if i%4 != 0 {
				r.FailureReason = &reason
			}
			many.TaskProcessingResults = append(many.TaskProcessingResults, r)
		}
		if _, err := s.Write(ctx, many); err != nil {
			t.Fatal(err)
		}
		compare(t, ctx, s, "task_reports", db.ReadBothWays[db.TaskReport])
		compare(t, ctx, s, "task_processing_results", db.ReadBothWays[db.TaskProcessingResult])
		compare(t, ctx, s, "tasks", db.ReadBothWays[db.Task])
		compare(t, ctx, s, "task_definitions", db.ReadBothWays[db.TaskDefinition])
		compare(t, ctx, s, "workflows", db.ReadBothWays[db.Workflow])
		compare(t, ctx, s, "runs", db.ReadBothWays[db.Run])
		compare(t, ctx, s, "users", db.ReadBothWays[db.User])
	})
}

func compare[T any](t *testing.T, ctx context.Context, s *db.Store, table string,
	read func(context.Context, *db.Store, string) ([]*T, []*T, error)) {
	t.Helper()
	viaSQL, viaPgx, err := read(ctx, s, table)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	if len(viaSQL) < 2 {
		t.Fatalf("%s: %d rows read, want the seeded ones", table, len(viaSQL))
	}
	if !reflect.DeepEqual(viaSQL, viaPgx) {
		for i := range viaSQL {
			if i < len(viaPgx) && !reflect.DeepEqual(viaSQL[i], viaPgx[i]) {
				t.Errorf("%s row %d:\ndatabase/sql %+v\npgx          %+v", table, i, *viaSQL[i], *viaPgx[i])
			}
		}
		t.Fatalf("%s: pgx's scan read %d rows unlike database/sql's %d", table, len(viaPgx), len(viaSQL))
	}
}

// TestPgxScanOfAFailedRead: a request canceled while its read starts gets the error, not a panic.
func TestPgxScanOfAFailedRead(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		if e.Name != "postgres" {
			t.Skip("pgx's own scan runs on PostgreSQL only")
		}
		if err := db.ReadCanceledJoined(e.Open(t)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a canceled read: %v, want context.Canceled", err)
		}
	})
}

// seededTwice is a store of engine e that holds seedReads' rows for the store's tenant and the
// decoy's, with the store tenant's context.
func seededTwice(t *testing.T, e dbtest.Engine) (*db.Store, context.Context) {
	t.Helper()
	s := e.Open(t)
	seedReads(t, s, storeTenant)
	seedReads(t, s, decoyTenant)
	return s, tenant.WithTenant(context.Background(), storeTenant)
}

// TestManyParentsWithOddIDs: the pages of many parents (one statement: an array of keys on
// PostgreSQL, a union on SQLite) find each parent's children whatever its id holds: quotes,
// backslashes, commas, braces, spaces, null spelled out, non-ASCII.
func TestManyParentsWithOddIDs(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, ctx := seededTwice(t, e)
		at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		ids := []string{`with "quotes"`, `back\slash\`, "comma,separated", "{braces}", "in between spaces", "null", "ünïcødé ✓", `\"{,}`}
		var b db.Batch
		for i, id := range ids {
			for j := range i%3 + 1 {
				b.TaskProcessingResults = append(b.TaskProcessingResults, db.TaskProcessingResult{ID: fmt.Sprintf("odd-%d-%d", i, j),
					WorkflowID: "w9", RunID: "r9", TaskReportID: id, TaskID: "t9", SubjectID: "u9", CreatedDateTime: at,
					ProcessingStatus: db.StatusCompleted})
			}
		}
		if _, err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		first := 10
		pages, err := s.TaskProcessingResultPages(ctx, db.ByTaskReport, ids, db.PageArgs{First: &first})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			p := pages[id]
			if p == nil || len(p.Items) != i%3+1 {
				t.Errorf("parent %q: %v, want %d children", id, p, i%3+1)
				continue
			}
			for _, r := range p.Items {
				if r.TaskReportID != id {
					t.Errorf("parent %q: a child of %q", id, r.TaskReportID)
				}
			}
		}
	})
}
