package msgraph_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	tenantctx "lcw-gateway/tenant"
)

// plainSink is the store without its import memo: every import decodes and compares every page,
// as before the memo. What an import reports and stores must be the same either way.
type plainSink struct{ s *db.Store }

func (p plainSink) Write(ctx context.Context, b db.Batch) (db.WriteStats, error) {
	return p.s.Write(ctx, b)
}

func (p plainSink) BulkLoad(ctx context.Context, o db.LoadOptions, fn func(context.Context) error) error {
	return p.s.BulkLoad(ctx, o, fn)
}

// readsResultsByID counts the statements that read stored results by id (comparing a page with
// what is stored), from the time it is called.
func readsResultsByID(store *db.Store) *atomic.Int64 {
	var n atomic.Int64
	store.TraceStatements(func(q string, _ []any) {
		if strings.Contains(q, " FROM task_processing_results WHERE tenant_id = ") &&
			(strings.Contains(q, " AND id IN (") || strings.Contains(q, " AND id = ANY(")) {
			n.Add(1)
		}
	})
	return &n
}

// Importing the same folder again skips every page of results (none is read back from the
// store), and reports and stores exactly what an import without the memo does.
func TestImportSkipsRememberedPages(t *testing.T) {
	dir := msgraphtest.HistoryExample(t) // results and user processing results
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		memo, memoDSN := storeFor(t, e)
		plain, plainDSN := storeFor(t, e)
		for round := range 3 {
			reads := readsResultsByID(memo)
			got, err := msgraph.ImportDir(ctx, memo, dir)
			must(t, err)
			want, err := msgraph.ImportDir(ctx, plainSink{plain}, dir)
			must(t, err)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("import %d: with the memo %+v, without %+v", round+1, got, want)
			}
			if round > 0 && reads.Load() != 0 {
				t.Errorf("import %d: %d reads of stored results by id, want none (every page remembered)", round+1, reads.Load())
			}
			if got, want := dbtest.Dump(t, memoDSN), dbtest.Dump(t, plainDSN); !reflect.DeepEqual(got, want) {
				t.Errorf("import %d: stores differ:\n memo %v\nplain %v", round+1, got, want)
			}
		}
		// The check sees such reads: a memo-less repeat makes them.
		reads := readsResultsByID(plain)
		_, err := msgraph.ImportDir(ctx, plain, dir) // the plain store's first memo
		must(t, err)
		if reads.Load() == 0 {
			t.Error("an import without a memo read no stored results: the check above proves nothing")
		}
	})
}

// Whatever wrote the tenant's results after an import, importing that import's folder again
// restores the folder's values and reports what an import without the memo reports: the memo is
// void once the change feed has a later entry of the tenant, once results were deleted, and once
// the feed was pruned past the memo.
func TestImportMemoVoidedByOtherWrites(t *testing.T) {
	dir := msgraphtest.HistoryExample(t)
	edited := msgraphtest.CopyFixture(t, dir)
	msgraphtest.EditCollection(t, edited, wfDir+"/taskReports/"+lastReport+"/taskProcessingResults",
		func(records []map[string]any) []map[string]any {
			records[0]["failureReason"] = "edited by another import"
			return records
		})
	// changeOneResult writes one stored result with other values, as a sync would.
	changeOneResult := func(t *testing.T, ctx context.Context, store *db.Store, dsn string) {
		rows, err := store.ResultsOfRun(ctx, dbtest.Dump(t, dsn)["runs"][0]["id"].(string))
		if err != nil || len(rows) == 0 {
			t.Fatalf("results of a run: %d, %v", len(rows), err)
		}
		r := *rows[0]
		reason := "changed by a sync"
		r.FailureReason = &reason
		st, err := store.Write(ctx, db.Batch{TaskProcessingResults: []db.TaskProcessingResult{r}})
		if err != nil || st.TaskProcessingResults.Updated != 1 {
			t.Fatalf("write: %+v, %v", st, err)
		}
	}
	cases := map[string]func(t *testing.T, ctx context.Context, store *db.Store, dsn string){
		"a write with other values": changeOneResult,
		"another import": func(t *testing.T, ctx context.Context, store *db.Store, dsn string) {
			st, err := msgraph.ImportDir(ctx, store, edited)
			must(t, err)
			if st.Written.TaskProcessingResults.Updated != 1 {
				t.Fatalf("the edited folder wrote %+v", st.Written)
			}
		},
		"pruning with --retain": func(t *testing.T, ctx context.Context, store *db.Store, dsn string) {
			st, err := store.PruneBefore(ctx, time.Now().AddDate(100, 0, 0))
			if err != nil || st.TaskProcessingResults == 0 || st.UserProcessingResults == 0 {
				t.Fatalf("prune: %+v, %v", st, err)
			}
		},
		"a write, then the feed pruned past it": func(t *testing.T, ctx context.Context, store *db.Store, dsn string) {
			changeOneResult(t, ctx, store, dsn)
			// Another tenant's write becomes the newest entry; pruning keeps only that one.
			_, err := msgraph.ImportDir(tenantctx.WithTenant(ctx, "other"), store, dir)
			must(t, err)
			// The feed's times have a millisecond's precision on SQLite: entries of the current
			// millisecond are not yet older than "now", and a prune at once could keep them.
			time.Sleep(5 * time.Millisecond)
			if _, err := store.PruneChanges(ctx, 0, 1_000_000); err != nil {
				t.Fatal(err)
			}
			oldest, err := store.OldestChange(ctx)
			must(t, err)
			if latest, err := store.LatestChange(ctx); err != nil || latest != oldest {
				t.Fatalf("the feed kept %d..%d (%v), want its newest entry only", oldest, latest, err)
			}
		},
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		for name, change := range cases {
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				memo, memoDSN := storeFor(t, e)
				plain, plainDSN := storeFor(t, e)
				_, err := msgraph.ImportDir(ctx, memo, dir)
				must(t, err)
				_, err = msgraph.ImportDir(ctx, plainSink{plain}, dir)
				must(t, err)
				folder := dbtest.Dump(t, memoDSN)

				change(t, ctx, memo, memoDSN)
				change(t, ctx, plain, plainDSN)
				if reflect.DeepEqual(dbtest.Dump(t, memoDSN)["task_processing_results"], folder["task_processing_results"]) {
					t.Fatal("the change changed no result")
				}

				got, err := msgraph.ImportDir(ctx, memo, dir)
				must(t, err)
				want, err := msgraph.ImportDir(ctx, plainSink{plain}, dir)
				must(t, err)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("import again: with the memo %+v, without %+v", got, want)
				}
				after := dbtest.Dump(t, memoDSN)
				for table, rows := range folder {
					if got := ofTenant(after[table], "default"); !reflect.DeepEqual(got, rows) {
						t.Errorf("%s: not restored to the folder's rows:\n got %v\nwant %v", table, got, rows)
					}
				}
				if p := dbtest.Dump(t, plainDSN); !reflect.DeepEqual(after, p) {
					t.Errorf("stores differ:\n memo %v\nplain %v", after, p)
				}
			})
		}
	})
}

// ofTenant keeps the rows of one tenant.
func ofTenant(rows []dbtest.Row, tenant string) []dbtest.Row {
	var out []dbtest.Row
	for _, r := range rows {
		if r["tenant_id"] == tenant {
			out = append(out, r)
		}
	}
	return out
}

// A result listed under two reports is stored under the one read last; a remembered page whose
// rows moved so is read again (its report no longer holds as many rows as it had), so an import
// with the memo stores what one without does, whichever of the two pages changed. (How a repeated
// id is counted depends on whether both copies fall into one write, with or without the memo.)
func TestImportMemoRereadsPagesWhoseRowsMoved(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		for _, editFirst := range []bool{true, false} {
			dir := msgraphtest.CopyFixture(t, fixture(t))
			reports, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(wfDir), "taskReports", "*"))
			if err != nil || len(reports) < 2 {
				t.Fatalf("report folders: %v, %v", reports, err)
			}
			pages := []string{
				wfDir + "/taskReports/" + filepath.Base(reports[0]) + "/taskProcessingResults",
				wfDir + "/taskReports/" + filepath.Base(reports[1]) + "/taskProcessingResults",
			}
			var shared map[string]any
			msgraphtest.EditCollection(t, dir, pages[1], func(records []map[string]any) []map[string]any {
				shared = records[0]
				return records
			})
			msgraphtest.EditCollection(t, dir, pages[0], func(records []map[string]any) []map[string]any {
				return append(records, shared)
			})
			ctx := context.Background()
			memo, memoDSN := storeFor(t, e)
			plain, plainDSN := storeFor(t, e)
			importBoth := func(what string) {
				t.Helper()
				got, err := msgraph.ImportDir(ctx, memo, dir)
				must(t, err)
				want, err := msgraph.ImportDir(ctx, plainSink{plain}, dir)
				must(t, err)
				if got.Records() != want.Records() {
					t.Errorf("%s: with the memo %+v, without %+v", what, got, want)
				}
				if got, want := dbtest.Dump(t, memoDSN), dbtest.Dump(t, plainDSN); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: stores differ:\n memo %v\nplain %v", what, got, want)
				}
			}
			importBoth("first import")
			edited := pages[1]
			if editFirst {
				edited = pages[0]
			}
			msgraphtest.EditCollection(t, dir, edited, func(records []map[string]any) []map[string]any {
				records[len(records)-1]["failureReason"] = "edited by the test"
				return records
			})
			importBoth("after editing one page")
			importBoth("unchanged")
		}
	})
}

// importedOnce is a new store that holds dir, imported once.
func importedOnce(t *testing.T, e dbtest.Engine, dir string) (*db.Store, string) {
	t.Helper()
	store, dsn := storeFor(t, e)
	_, err := msgraph.ImportDir(context.Background(), store, dir)
	must(t, err)
	return store, dsn
}

// countsOneParent tells whether a statement counts the rows stored under one report or run.
func countsOneParent(q string) bool {
	lower := strings.ToLower(q)
	return strings.Contains(lower, "count(") && (strings.Contains(lower, "task_report_id = ") || strings.Contains(lower, "run_id = "))
}

// A repeated import reads the memo's pages and the stored rows per report and run once, not
// once per page: each remembered page then costs one read (its subjects and inline tasks), and
// none to count the rows stored under its report.
func TestImportMemoReadsItsPagesOnce(t *testing.T) {
	dir := msgraphtest.HistoryExample(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		store, _ := importedOnce(t, e, dir)
		var digests, perPage, perParent atomic.Int64
		store.TraceStatements(func(q string, _ []any) {
			lower := strings.ToLower(q)
			switch {
			case strings.Contains(lower, "select digest, records, stored_rows from import_pages"):
				digests.Add(1)
			case strings.Contains(lower, "select subjects, tasks from import_pages"):
				perPage.Add(1)
			case countsOneParent(q):
				perParent.Add(1)
			}
		})
		st, err := msgraph.ImportDir(ctx, store, dir)
		must(t, err)
		store.TraceStatements(nil)
		if st.Written.TaskProcessingResults.Unchanged == 0 || st.Written.UserProcessingResults.Unchanged == 0 {
			t.Fatalf("the repeat found no unchanged results of both kinds: %+v", st.Written)
		}
		if digests.Load() != 1 || perParent.Load() != 0 {
			t.Errorf("the repeat read the memo's pages %d times (want 1) and counted rows under one report or run %d times (want 0)",
				digests.Load(), perParent.Load())
		}
		if perPage.Load() == 0 {
			t.Error("no page was recalled: the check above proves nothing")
		}
	})
}

// A tenant that stores far more results than the memo remembers (rows of an earlier, larger
// import) is not counted whole when the memo opens: each recalled page counts its report, and
// the repeat still skips every page.
func TestImportMemoCountsPerPageInALargerTenant(t *testing.T) {
	dir := msgraphtest.HistoryExample(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		store, dsn := importedOnce(t, e, dir)
		rows, err := store.ResultsOfRun(ctx, dbtest.Dump(t, dsn)["runs"][0]["id"].(string))
		if err != nil || len(rows) == 0 {
			t.Fatalf("results of a run: %d, %v", len(rows), err)
		}
		var extra []db.TaskProcessingResult
		for i := range 500 {
			r := *rows[0]
			r.ID = fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
			r.TaskReportID = "00000000-0000-4000-8000-0000000000ff" // a report of its own: the folder's pages keep their counts
			extra = append(extra, r)
		}
		_, err = store.Write(ctx, db.Batch{TaskProcessingResults: extra})
		must(t, err)
		_, err = msgraph.ImportDir(ctx, store, dir) // the memo, void since the write, is written again
		must(t, err)
		var perParent, reads atomic.Int64
		store.TraceStatements(func(q string, _ []any) {
			if countsOneParent(q) {
				perParent.Add(1)
			}
			if strings.Contains(q, " FROM task_processing_results WHERE tenant_id = ") &&
				(strings.Contains(q, " AND id IN (") || strings.Contains(q, " AND id = ANY(")) {
				reads.Add(1)
			}
		})
		st, err := msgraph.ImportDir(ctx, store, dir)
		must(t, err)
		store.TraceStatements(nil)
		if perParent.Load() == 0 {
			t.Error("the repeat counted no report's rows: it counted the whole tenant")
		}
		if reads.Load() != 0 || st.Written.TaskProcessingResults.Created+st.Written.TaskProcessingResults.Updated != 0 {
			t.Errorf("the repeat read %d pages of results back and wrote %+v, want every page skipped", reads.Load(), st.Written.TaskProcessingResults)
		}
	})
}
