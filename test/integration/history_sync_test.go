package integration_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/tenant"
)

const (
	leaverWF      = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	leaverRun     = "7c2d9e11-5b4a-4f3e-8d2c-1a0b9c8d7e6f"
	agedOutRun    = "a512bb50-3423-4bdc-ad5e-9731095b3b9a"
	lifecycleRoot = "identityGovernance/lifecycleWorkflows"
)

// syncPass runs `lcw-gateway sync` against the double into dsn, with extra flags.
func syncPass(t *testing.T, srv *msgraphtest.Server, dsn string, extra ...string) string {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(srv.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	args := append([]string{"sync", "--db", dsn, "--graph-url", srv.GraphURL, "--token-url", srv.TokenURL,
		"--tenant-id", syncTenant, "--client-id", srv.ClientID, "--client-secret-file", secretFile}, extra...)
	if err := runCLI(t, context.Background(), logs, args...); err != nil {
		t.Fatalf("sync: %v\n%s", err, logs)
	}
	return logs.String()
}

func syncedHandler(t *testing.T, dsn string) http.Handler {
	return asTenant(server.New(dbtest.Open(t, dsn), slog.New(slog.DiscardHandler), nil), syncTenant)
}

// TestSyncKeepsWhatGraphDrops: a workflow deleted upstream between two passes is a deleted
// workflow after the second, with its history still queryable; a run Graph no longer lists in a
// full pass, and a workflow in neither listing, are marked missing and kept.
func TestSyncKeepsWhatGraphDrops(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dir := msgraphtest.CopyFixture(t, msgraphtest.HistoryExample(t))
		f := readHistoryFixture(t)
		srv := msgraphtest.New(t, dir)
		dsn := e.DSN(t)
		syncPass(t, srv, dsn)

		// Upstream, the leaver workflow is deleted and a docs run ages out.
		deletedAt := "2022-09-01T00:00:00Z"
		var moved map[string]any
		msgraphtest.EditCollection(t, dir, lifecycleRoot+"/workflows", func(rs []map[string]any) []map[string]any {
			var keep []map[string]any
			for _, r := range rs {
				if r["id"] == leaverWF {
					moved = r
					continue
				}
				keep = append(keep, r)
			}
			return keep
		})
		moved["deletedDateTime"] = deletedAt
		msgraphtest.EditCollection(t, dir, lifecycleRoot+"/deletedItems/workflows", func(rs []map[string]any) []map[string]any {
			return append(rs, moved)
		})
		msgraphtest.EditCollection(t, dir, lifecycleRoot+"/workflows/"+docsWorkflow+"/runs", func(rs []map[string]any) []map[string]any {
			var keep []map[string]any
			for _, r := range rs {
				if r["id"] != agedOutRun {
					keep = append(keep, r)
				}
			}
			return keep
		})
		syncPass(t, srv, dsn, "--full")

		h := syncedHandler(t, dsn)
		type runState struct {
			ID                    string
			MissingSinceDateTime  *time.Time
			TaskReports           struct{ TotalCount int }
			UserProcessingResults struct{ TotalCount int }
		}
		var got struct {
			Workflows struct{ Nodes []struct{ ID string } }
			Deleted   struct {
				Nodes []struct {
					ID              string
					DeletedDateTime *time.Time
				}
			}
			Leaver struct {
				DeletedDateTime       *time.Time
				MissingSinceDateTime  *time.Time
				Runs                  struct{ Nodes []runState }
				UserProcessingResults struct{ TotalCount int }
			}
			Docs struct {
				MissingSinceDateTime *time.Time
				Runs                 struct{ Nodes []runState }
			}
		}
		const runFields = `id missingSinceDateTime taskReports { totalCount } userProcessingResults { totalCount }`
		graphtest.MustData(t, h, `query($leaver: ID!, $docs: ID!) {
			workflows(first: 500) { nodes { id } }
			deleted: deletedWorkflows { nodes { id deletedDateTime } }
			leaver: workflow(id: $leaver) { deletedDateTime missingSinceDateTime runs { nodes { `+runFields+` } } userProcessingResults { totalCount } }
			docs: workflow(id: $docs) { missingSinceDateTime runs { nodes { `+runFields+` } } } }`,
			map[string]any{"leaver": leaverWF, "docs": docsWorkflow}, &got)
		assertSameIDs(t, "workflows after the deletion", nodeIDs(got.Workflows.Nodes), []string{docsWorkflow})
		when, _ := time.Parse(time.RFC3339, deletedAt)
		if got.Leaver.DeletedDateTime == nil || !got.Leaver.DeletedDateTime.Equal(when) || got.Leaver.MissingSinceDateTime != nil {
			t.Errorf("the deleted workflow: %+v", got.Leaver)
		}
		var deletedIDs []string
		for _, d := range got.Deleted.Nodes {
			deletedIDs = append(deletedIDs, d.ID)
		}
		assertSameIDs(t, "deleted workflows", deletedIDs, append([]string{leaverWF}, f.deleted[0].ID))
		// Its history stays: the run, its reports and its user results, as the fixture holds them.
		uprs := 0
		for _, u := range f.userResults {
			if u.workflow == leaverWF {
				uprs++
			}
		}
		if len(got.Leaver.Runs.Nodes) != 1 || got.Leaver.Runs.Nodes[0].ID != leaverRun ||
			got.Leaver.Runs.Nodes[0].TaskReports.TotalCount == 0 || got.Leaver.UserProcessingResults.TotalCount != uprs {
			t.Errorf("the deleted workflow's history: %+v, want its run with reports and %d user results", got.Leaver, uprs)
		}
		for _, r := range got.Docs.Runs.Nodes {
			if aged := r.ID == agedOutRun; aged != (r.MissingSinceDateTime != nil) || r.TaskReports.TotalCount == 0 || r.UserProcessingResults.TotalCount == 0 {
				t.Errorf("docs run %s after it aged out upstream (%v): %+v", r.ID, aged, r)
			}
		}
		if len(got.Docs.Runs.Nodes) != 2 || got.Docs.MissingSinceDateTime != nil {
			t.Errorf("docs workflow: %+v", got.Docs)
		}

		// Upstream, the docs workflow disappears from both listings (purged): it stays, marked.
		msgraphtest.EditCollection(t, dir, lifecycleRoot+"/workflows", func([]map[string]any) []map[string]any { return []map[string]any{} })
		syncPass(t, srv, dsn)
		var after struct {
			Workflow struct {
				MissingSinceDateTime *time.Time
				Runs                 struct{ TotalCount int }
			}
		}
		graphtest.MustData(t, syncedHandler(t, dsn), `query($id: ID!) { workflow(id: $id) { missingSinceDateTime runs { totalCount } } }`,
			map[string]any{"id": docsWorkflow}, &after)
		if after.Workflow.MissingSinceDateTime == nil || after.Workflow.Runs.TotalCount != 2 {
			t.Errorf("a purged workflow: %+v, want it marked missing with its 2 runs", after.Workflow)
		}
	})
}

// TestRetainPrunesOutsideTheWindow: `sync --retain` removes the runs scheduled before the window
// with exactly their reports, results and user results, and nothing else; a later full pass does
// not bring them back.
func TestRetainPrunesOutsideTheWindow(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dir := msgraphtest.HistoryExample(t)
		f := readHistoryFixture(t)
		srv := msgraphtest.New(t, dir)
		dsn := e.DSN(t)
		syncPass(t, srv, dsn)
		before := dbtest.Dump(t, dsn)

		// The window starts between the leaver run (18:27) and the first docs run (23:28).
		cut := time.Date(2022, 8, 24, 20, 0, 0, 0, time.UTC)
		outside := map[string]bool{}
		for _, r := range f.runs {
			if r.ScheduledDateTime.Before(cut) {
				outside[r.ID] = true
			}
		}
		if len(outside) == 0 || len(outside) == len(f.runs) {
			t.Fatalf("the cut %s must split the fixture's runs", cut)
		}
		retain := time.Since(cut).Truncate(time.Second) // the pass starts later: its cutoff is within a second after cut
		for _, extra := range [][]string{{"--retain", retain.String()}, {"--retain", retain.String(), "--full"}} {
			syncPass(t, srv, dsn, extra...)
			got := dbtest.Dump(t, dsn)
			want, _ := withoutRuns(before, outside)
			for _, table := range dbtest.Tables() {
				if !sameRows(got[table], want[table]) {
					t.Errorf("%v: %s after pruning:\n got %d rows\nwant %d rows", extra, table, len(got[table]), len(want[table]))
				}
			}
		}
	})
}

// TestPruneInBatches: PruneBefore removes every run before the cutoff with everything under it,
// in transactions of at most PruneBatch runs, and leaves every later row.
func TestPruneInBatches(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		store := dbtest.Open(t, dsn)
		ctx := tenant.WithTenant(context.Background(), syncTenant)
		opts := demo.Options{Workflows: 3, RunsPerWorkflow: 60, Users: 20, Now: benchNow, Seed: 5}
		if _, err := demo.Seed(ctx, store, opts, nil); err != nil {
			t.Fatal(err)
		}
		before := dbtest.Dump(t, dsn)
		// The cutoff: the scheduled time of the 130th oldest run, so pruning takes three batches.
		var times []string
		for _, r := range before["runs"] {
			times = append(times, r["scheduled_date_time"].(string))
		}
		slices.Sort(times)
		cutoff, err := time.Parse(time.RFC3339Nano, times[130])
		if err != nil {
			t.Fatal(err)
		}
		outside := map[string]bool{}
		for _, r := range before["runs"] {
			if r["scheduled_date_time"].(string) < times[130] {
				outside[r["id"].(string)] = true
			}
		}
		st, err := store.PruneBefore(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if st.Runs != len(outside) || st.Batches != (len(outside)+db.PruneBatch-1)/db.PruneBatch {
			t.Errorf("pruned %+v, want %d runs in %d batches", st, len(outside), (len(outside)+db.PruneBatch-1)/db.PruneBatch)
		}
		got := dbtest.Dump(t, dsn)
		want, removed := withoutRuns(before, outside)
		for _, table := range dbtest.Tables() {
			if !sameRows(got[table], want[table]) {
				t.Errorf("%s after pruning: %d rows, want %d", table, len(got[table]), len(want[table]))
			}
		}
		if removed != st.Runs+st.TaskReports+st.TaskProcessingResults+st.UserProcessingResults {
			t.Errorf("pruning counted %+v, the tables lost %d rows", st, removed)
		}
	})
}

// sameRows compares two tables' rows, an empty table equal to an absent one.
func sameRows(a, b []dbtest.Row) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// withoutRuns is the dump without the runs named and every row under them, and how many rows
// that leaves out.
func withoutRuns(dump map[string][]dbtest.Row, runs map[string]bool) (map[string][]dbtest.Row, int) {
	out, removed := map[string][]dbtest.Row{}, 0
	for table, rows := range dump {
		for _, row := range rows {
			runID, _ := row["run_id"].(string)
			if table == "runs" {
				runID, _ = row["id"].(string)
			}
			if runs[runID] {
				removed++
				continue
			}
			out[table] = append(out[table], row)
		}
	}
	return out, removed
}
