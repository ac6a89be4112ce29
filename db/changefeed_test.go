package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

func changeIDs(t *testing.T, s *db.Store, ctx context.Context, after int64) []string {
	t.Helper()
	changes, err := s.ChangesAfter(ctx, after, 100)
	must(t, err)
	var out []string
	for _, c := range changes {
		out = append(out, c.TenantID+"/"+c.Entity+"/"+c.ID)
	}
	return out
}

// The triggers record one entry per row whose content changed, whatever the write path, and
// nothing for an upsert that changes nothing; in seq order; per tenant.
func TestChangeFeedRecordsChangedRowsOnly(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, _ := open(t, e)
		ctx := context.Background()
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1), report("b", 2)}}))
		must(t, write(ctx, s, db.Batch{TaskProcessingResults: []db.TaskProcessingResult{result("x")}}))
		got := changeIDs(t, s, ctx, 0)
		want := []string{"default/TaskReport/a", "default/TaskReport/b", "default/TaskProcessingResult/x"}
		if len(got) != 3 || got[0] != want[0] && got[0] != want[1] || got[2] != want[2] {
			t.Fatalf("after inserts: %v, want %v (reports in any order)", got, want)
		}
		last, err := s.LatestChange(ctx)
		must(t, err)

		// The same rows again: nothing changed, nothing recorded.
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1), report("b", 2)}}))
		must(t, write(ctx, s, db.Batch{TaskProcessingResults: []db.TaskProcessingResult{result("x")}}))
		if got := changeIDs(t, s, ctx, last); len(got) != 0 {
			t.Fatalf("unchanged upsert recorded %v", got)
		}

		// One report changes, in another tenant a new one appears; a null that becomes set counts.
		changed := report("b", 3)
		r := result("x")
		r.FailureReason = ptr("boom")
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1), changed}}))
		must(t, write(ctx, s, db.Batch{TaskProcessingResults: []db.TaskProcessingResult{r}}))
		must(t, write(tenant.WithTenant(ctx, "t2"), s, db.Batch{TaskReports: []db.TaskReport{report("a", 1)}}))
		got = changeIDs(t, s, ctx, last)
		want = []string{"default/TaskReport/b", "default/TaskProcessingResult/x", "t2/TaskReport/a"}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("after changes: %v, want %v", got, want)
		}

		// A replay sees only its tenant and kind, with the run it belongs to.
		replay, err := s.TenantChangesAfter(ctx, db.ChangeFilter{Entity: db.ChangedTaskReport, RunID: ptr("R1")}, last, 10)
		must(t, err)
		if len(replay) != 1 || replay[0].ID != "b" || replay[0].RunID == nil || *replay[0].RunID != "r1" || replay[0].WorkflowID != "w1" {
			t.Fatalf("replay = %+v", replay)
		}
		if age := time.Since(replay[0].ChangedAt); age < -time.Minute || age > time.Minute {
			t.Errorf("changed_at %v is not about now", replay[0].ChangedAt)
		}
	})
}

// Pruning deletes old entries in bounded batches and always keeps the newest one.
func TestChangeFeedPruning(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, _ := open(t, e)
		ctx := context.Background()
		for i := range 5 {
			must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", i)}}))
		}
		n, err := s.PruneChanges(ctx, time.Hour, 10)
		must(t, err)
		if n != 0 {
			t.Fatalf("pruned %d entries younger than the retention", n)
		}
		time.Sleep(1100 * time.Millisecond)
		n, err = s.PruneChanges(ctx, time.Second, 3)
		must(t, err)
		if n != 3 {
			t.Fatalf("first batch pruned %d, want 3", n)
		}
		n, err = s.PruneChanges(ctx, time.Second, 3)
		must(t, err)
		if n != 1 {
			t.Fatalf("second batch pruned %d, want 1 (the newest entry stays)", n)
		}
		oldest, _ := s.OldestChange(ctx)
		latest, _ := s.LatestChange(ctx)
		if oldest != latest || latest == 0 {
			t.Fatalf("oldest %d, latest %d: want the newest entry kept", oldest, latest)
		}
	})
}

// Marking workflows and runs missing records one entry per marked row on both engines, and a
// re-mark that changes nothing records none (SQLite's triggers list the columns they compare).
func TestChangeFeedRecordsMissingMarks(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, _ := open(t, e)
		ctx := context.Background()
		workflow := func(id string) db.Workflow {
			return db.Workflow{ID: id, DisplayName: id, Category: "leaver", Version: 1}
		}
		run := func(id string) db.Run {
			return db.Run{ID: id, WorkflowID: "w1", ProcessingStatus: db.StatusCompleted, WorkflowExecutionType: "onDemand",
				ScheduledDateTime: at("2022-08-24T23:28:01Z")}
		}
		must(t, write(ctx, s, db.Batch{Workflows: []db.Workflow{workflow("w1"), workflow("w2"), workflow("w3")},
			Runs: []db.Run{run("r1"), run("r2"), run("r3")}}))
		mark := func(what string, marked func() (int, error), wantMarked int, want ...string) {
			t.Helper()
			last, err := s.LatestChange(ctx)
			must(t, err)
			n, err := marked()
			must(t, err)
			got := changeIDs(t, s, ctx, last)
			slices.Sort(got)
			if n != wantMarked || !slices.Equal(got, want) {
				t.Errorf("%s: marked %d rows and recorded %v; want %d and %v", what, n, got, wantMarked, want)
			}
		}
		now := at("2026-01-02T03:04:05Z")
		workflows := func() (int, error) { return s.MarkWorkflowsMissing(ctx, []string{"w1"}, now) }
		runs := func() (int, error) { return s.MarkRunsMissing(ctx, "w1", []string{"r1"}, now) }
		mark("workflows", workflows, 2, "default/Workflow/w2", "default/Workflow/w3")
		mark("workflows again", workflows, 0)
		mark("runs", runs, 2, "default/Run/r2", "default/Run/r3")
		mark("runs again", runs, 0)
	})
}

// SQLite's update triggers compare the columns they list (PostgreSQL's compare whole rows): every
// column of a table with a change-feed trigger must be listed, or a change to it goes unrecorded
// on SQLite alone, as missing_since_date_time did.
func TestSQLiteChangeFeedTriggersCompareEveryColumn(t *testing.T) {
	conn, err := dbtest.Open(t, dbtest.SQLiteDSN(t)).SQL()
	must(t, err)
	rows := query(t, conn, `SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'change_feed_%_update'`)
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var table, trigger string
		scan(t, rows, &table, &trigger)
		checked++
		for _, col := range queryStrings(t, conn, `SELECT name FROM pragma_table_info(?) WHERE name NOT IN ('tenant_id', 'id')`, table) {
			if !strings.Contains(trigger, "OLD."+col+" IS NOT NEW."+col) {
				t.Errorf("the change-feed update trigger of %s does not compare %s", table, col)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("found %d change-feed update triggers, want one per recorded table", checked)
	}
}
