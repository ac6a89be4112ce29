package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
)

// indexDefs reads every index's definition through a connection of its own.
func indexDefs(t *testing.T, dsn string) map[string]string {
	t.Helper()
	q := `SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`
	if db.IsPostgres(dsn) {
		q = `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema()`
	}
	g, done := dbtest.Connect(t, dsn)
	defer done()
	var rows []struct{ Name, Def string }
	must(t, g.Raw(q).Scan(&rows).Error)
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name] = r.Def
	}
	return out
}

// A load with DeferIndexes drops the secondary indexes of the tables it finds empty and builds
// them again at its end, as they were; a failed load leaves them as they were too, with none of
// its rows. Writes inside the load count as anywhere else, on tables empty or not.
func TestBulkLoadDefersIndexesOfEmptyTables(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		before := indexDefs(t, dsn)
		if len(before) < 20 {
			t.Fatalf("only %d indexes: %v", len(before), before)
		}
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1)}})) // not empty
		results := numberedResults(1200)
		load := func(fail error) (db.WriteStats, error) {
			var st db.WriteStats
			err := s.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true}, func(ctx context.Context) error {
				for _, b := range []db.Batch{
					{TaskReports: []db.TaskReport{report("a", 1), report("b", 2)}, TaskProcessingResults: results[:700]},
					{TaskReports: []db.TaskReport{report("a", 3)}, TaskProcessingResults: results[500:]},
				} {
					w, err := s.Write(ctx, b)
					if err != nil {
						return err
					}
					st = st.Add(w)
				}
				return fail
			})
			return st, err
		}

		boom := errors.New("boom")
		if _, err := load(boom); !errors.Is(err, boom) {
			t.Fatalf("failed load: %v", err)
		}
		if got := indexDefs(t, dsn); !reflect.DeepEqual(got, before) {
			t.Errorf("indexes after a failed load:\n got %v\nwant %v", got, before)
		}
		if n := len(dbtest.Dump(t, dsn)["task_processing_results"]); n != 0 {
			t.Errorf("a failed load left %d results", n)
		}

		st, err := load(nil)
		must(t, err)
		want := db.WriteStats{
			TaskReports:           db.Counts{Created: 1, Updated: 1, Unchanged: 1},
			TaskProcessingResults: db.Counts{Created: 1200, Unchanged: 200},
		}
		if st != want {
			t.Errorf("load wrote %+v, want %+v", st, want)
		}
		if got := indexDefs(t, dsn); !reflect.DeepEqual(got, before) {
			t.Errorf("indexes after a load:\n got %v\nwant %v", got, before)
		}
		if n := len(dbtest.Dump(t, dsn)["task_processing_results"]); n != 1200 {
			t.Errorf("%d results stored, want 1200", n)
		}
	})
}

// Every SQLite connection of the pool has the store's page cache (4 MiB, not SQLite's 2,000 KiB:
// docs/performance.md), also the one a bulk load enlarged its cache on, and the pool has its
// default size.
func TestSQLiteConnectionsKeepTheirPageCache(t *testing.T) {
	ctx := context.Background()
	s := dbtest.Open(t, dbtest.SQLiteDSN(t))
	sqlDB, err := s.SQL()
	must(t, err)
	if got, want := sqlDB.Stats().MaxOpenConnections, db.DefaultMaxOpenConns(false); got != want || want < 4 {
		t.Fatalf("pool of %d connections, want the default %d (at least 4)", got, want)
	}
	check := func(when string) {
		t.Helper()
		// Hold every connection at once, so each of the pool's is asked.
		n := db.DefaultMaxOpenConns(false)
		for range n {
			conn, err := sqlDB.Conn(ctx)
			must(t, err)
			defer conn.Close()
			var kib int
			must(t, conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib))
			if kib != -4096 {
				t.Errorf("%s: a connection's cache_size is %d, want -4096 (4 MiB)", when, kib)
			}
		}
	}
	check("opened")
	err = s.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true}, func(ctx context.Context) error {
		_, err := s.Write(ctx, db.Batch{Users: []db.User{{ID: "u1"}}})
		return err
	})
	must(t, err)
	check("after a bulk load")
}

// Into a table it found empty, a load with Copy on PostgreSQL copies the rows it has not written
// yet; a row it wrote already, with other values or the same, is upserted as anywhere else:
// counted as updated or unchanged, its last values stored, its change recorded once. SQLite
// upserts every row; the outcome is the same.
func TestBulkLoadUpsertsRowsItWroteBefore(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		results := numberedResults(1100)
		again := slices.Clone(results[900:])
		reason := "the later page's"
		for i := range again[:100] {
			again[i].FailureReason = &reason // r0900..r0999 change; r1000..r1099 are sent twice alike
		}
		var st db.WriteStats
		err := s.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true, Copy: true}, func(ctx context.Context) error {
			for _, b := range []db.Batch{{TaskProcessingResults: results}, {TaskProcessingResults: again}} {
				w, err := s.Write(ctx, b)
				if err != nil {
					return err
				}
				st = st.Add(w)
			}
			return nil
		})
		must(t, err)
		if want := (db.Counts{Created: 1100, Updated: 100, Unchanged: 100}); st.TaskProcessingResults != want {
			t.Errorf("load wrote %+v, want %+v", st.TaskProcessingResults, want)
		}
		stored := dbtest.Dump(t, dsn)["task_processing_results"]
		if len(stored) != 1100 {
			t.Fatalf("%d results stored, want 1100", len(stored))
		}
		for _, r := range stored {
			id := r["id"].(string)
			if want := any(nil); id >= "r0900" && id < "r1000" {
				if r["failure_reason"] != reason {
					t.Errorf("%s: failure_reason %v, want the later page's", id, r["failure_reason"])
				}
			} else if r["failure_reason"] != want {
				t.Errorf("%s: failure_reason %v, want none", id, r["failure_reason"])
			}
		}
		changes, err := s.ChangesAfter(ctx, 0, 10_000)
		must(t, err)
		if len(changes) != 1200 {
			t.Errorf("%d change-feed entries, want 1,100 created and 100 updated", len(changes))
		}
	})
}

// numberedResults are n results with the ids r0000, r0001, ….
func numberedResults(n int) []db.TaskProcessingResult {
	out := make([]db.TaskProcessingResult, n)
	for i := range out {
		out[i] = result(fmt.Sprintf("r%04d", i))
	}
	return out
}
