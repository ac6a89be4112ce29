package db_test

import (
	"context"
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
