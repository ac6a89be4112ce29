package msgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	tenantctx "lcw-gateway/tenant"
)

// The live sync against the Graph double: the same walker and sink as an import, over HTTP.

const (
	tenant   = "5f1c2a3b-0000-4000-8000-00000000aaaa"
	runDad   = "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d"
	runA512  = "a512bb50-3423-4bdc-ad5e-9731095b3b9a"
	reportA1 = "3a3bea11-99ca-462d-86fb-d283db8d734a" // run dad77a47
	reportA2 = "23f37fcb-040d-4ee9-91df-1234700ebeb6" // run dad77a47
	reportB1 = "462e6deb-a7b4-4777-a494-389c495862b8" // run a512bb50
	reportB2 = "e3dd0719-a50a-463d-b32d-7176fa4519e4" // run a512bb50
)

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// syncer is a client of the double and the options a sync uses.
type syncer struct {
	client *msgraph.Client
	creds  *msgraph.Credentials
	opts   msgraph.WalkOptions
	logs   *logBuffer
}

func newSyncer(t *testing.T, srv *msgraphtest.Server, store *db.Store, concurrency int) *syncer {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	creds, err := msgraph.NewCredentials(msgraph.CredentialsConfig{TokenURL: srv.TokenURL, ClientID: srv.ClientID,
		Scope: srv.URL + "/.default", ClientSecret: srv.Secret})
	if err != nil {
		t.Fatal(err)
	}
	client, err := msgraph.NewClient(msgraph.ClientConfig{BaseURL: srv.GraphURL, Tokens: creds, Concurrency: concurrency,
		RequestTimeout: 5 * time.Second, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return &syncer{client: client, creds: creds, logs: logs, opts: msgraph.WalkOptions{UsersByID: true, State: store,
		Overlap: 10 * time.Minute, Concurrency: concurrency, KeepGoing: true, Logger: logger}}
}

func (s *syncer) sync(ctx context.Context, store *db.Store) (msgraph.Stats, error) {
	return msgraph.WalkWith(tenantctx.WithTenant(ctx, tenant), s.client, store, s.opts)
}

// imported is what an import of dir under the same tenant stores.
func imported(t *testing.T, e dbtest.Engine, dir string) map[string][]dbtest.Row {
	t.Helper()
	store, dsn := storeFor(t, e)
	if _, err := msgraph.ImportDir(tenantctx.WithTenant(context.Background(), tenant), store, dir); err != nil {
		t.Fatal(err)
	}
	return dbtest.Dump(t, dsn)
}

func assertSameTables(t *testing.T, got, want map[string][]dbtest.Row) {
	t.Helper()
	for _, table := range dbtest.Tables() {
		if !reflect.DeepEqual(got[table], want[table]) {
			t.Errorf("%s differs:\n got %v\nwant %v", table, got[table], want[table])
		}
	}
}

func paths(log []msgraphtest.Logged) []string {
	out := make([]string, len(log))
	for i, l := range log {
		out[i] = l.String()
	}
	return out
}

func countMatching(log []msgraphtest.Logged, substr string) int {
	n := 0
	for _, l := range log {
		if strings.Contains(l.String(), substr) {
			n++
		}
	}
	return n
}

// newerCollection tells the collections the docs folder predates (user processing results,
// versions, deleted workflows): the double answers 404 for them, which a walk takes as empty.
// The history folder has them all (TestSyncReadsHistory).
func newerCollection(path string) bool {
	return strings.HasSuffix(path, "/userProcessingResults") || strings.HasSuffix(path, "/versions") ||
		strings.HasSuffix(path, "/deletedItems/workflows")
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// A full sync stores exactly what an import of the same folder stores; a second sync with
// nothing changed upstream asks only for the short lists and writes nothing new.
func TestSyncStoresWhatImportStores(t *testing.T) {
	dir := fixture(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		srv.PageSize = 3
		store, dsn := storeFor(t, e)
		s := newSyncer(t, srv, store, 4)
		stats, err := s.sync(context.Background(), store)
		if err != nil {
			t.Fatalf("sync: %v\n%s", err, s.logs)
		}
		if stats.Records() != docsStats {
			t.Errorf("stats = %+v, want %+v", stats, docsStats)
		}
		synced := dbtest.Dump(t, dsn)
		assertSameTables(t, synced, imported(t, e, dir))

		log := srv.Requests()
		ids := map[string]bool{}
		for _, l := range log {
			if l.Status != 200 && !(l.Status == 404 && newerCollection(l.Path)) {
				t.Errorf("%s answered %d", l, l.Status)
			}
			if l.Prefer != "include-unknown-enum-members" {
				t.Errorf("%s: Prefer = %q", l, l.Prefer)
			}
			if !uuidPattern.MatchString(l.ClientRequestID) || ids[l.ClientRequestID] {
				t.Errorf("%s: client-request-id %q is not a fresh UUID", l, l.ClientRequestID)
			}
			ids[l.ClientRequestID] = true
			if strings.HasPrefix(l.Path, "users") && !strings.HasPrefix(l.Query.Get("$filter"), "id in (") {
				t.Errorf("%s: users are asked for by id only", l)
			}
		}
		// 16 definitions in pages of 3 make 6 requests; each collection of 4 or fewer, 1 or 2.
		if got := countMatching(log, "taskDefinitions"); got != 6 {
			t.Errorf("taskDefinitions took %d requests, want 6 (pages of 3)", got)
		}
		if got := countMatching(log, "$skiptoken"); got == 0 {
			t.Errorf("no @odata.nextLink was followed: %q", paths(log))
		}
		if got := srv.TokensIssued(); got != 1 {
			t.Errorf("%d tokens fetched for one sync, want 1 (cached)", got)
		}
		st := s.client.Stats()
		t.Logf("full sync: %d requests, %d retries, %d pages, at most %d in flight", st.Requests, st.Retries, st.Pages, srv.MaxInFlight())
		if srv.MaxInFlight() > 4 {
			t.Errorf("%d requests in flight at once, want at most 4", srv.MaxInFlight())
		}

		srv.ResetLog()
		again, err := s.sync(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"identityGovernance/lifecycleWorkflows/taskDefinitions",
			"identityGovernance/lifecycleWorkflows/workflows",
			"identityGovernance/lifecycleWorkflows/deletedItems/workflows",
			wfDir + "/tasks",
			wfDir + "/versions",
			// The watermark is the newest run (00:20:05.87), less the 10 minute overlap.
			wfDir + "/runs?$filter=lastUpdatedDateTime ge 2022-08-25T00:10:05.87Z",
		}
		var got []string
		for _, p := range paths(srv.Requests()) {
			if !strings.Contains(p, "$skiptoken") {
				got = append(got, p)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("second sync asked for\n%q\nwant\n%q", got, want)
		}
		if again.UnchangedRuns != 1 || again.TaskReports != 0 || again.TaskProcessingResults != 0 {
			t.Errorf("second sync stats = %+v, want 1 unchanged run and no reports or results", again)
		}
		assertSameTables(t, dbtest.Dump(t, dsn), synced)
	})
}

// A sync cancelled halfway stores what it committed; the next one completes the same content,
// without duplicates, and asks for less than a sync from scratch.
func TestSyncResumesAfterInterruption(t *testing.T) {
	dir := fixture(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		srv.PageSize = 1

		fresh, _ := storeFor(t, e)
		if _, err := newSyncer(t, srv, fresh, 1).sync(context.Background(), fresh); err != nil {
			t.Fatal(err)
		}
		whole := len(srv.Requests())

		store, dsn := storeFor(t, e)
		srv.ResetLog()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Stop when the first result of the second run is asked for: the first run is complete.
		srv.OnRequest(func(n int, l msgraphtest.Logged) {
			if strings.Contains(l.Path, reportB1) {
				cancel()
			}
		})
		s := newSyncer(t, srv, store, 1)
		if _, err := s.sync(ctx, store); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted sync: err = %v, want context.Canceled", err)
		}
		first := len(srv.Requests())
		partial := dbtest.Dump(t, dsn)
		if n := len(partial["task_processing_results"]); n != 4 {
			t.Errorf("after the interruption %d results are stored, want the 4 of run %s", n, runDad)
		}
		_, marks, err := store.SyncState(tenantctx.WithTenant(context.Background(), tenant), workflowID)
		if err != nil || len(marks) != 1 || marks[runDad].ID != runDad {
			t.Errorf("checkpoints after the interruption = %+v, %v; want run %s", marks, err, runDad)
		}

		srv.OnRequest(nil)
		srv.ResetLog()
		if _, err := s.sync(context.Background(), store); err != nil {
			t.Fatal(err)
		}
		second := srv.Requests()
		t.Logf("requests: %d for a whole sync; %d before the interruption, %d after it", whole, first, len(second))
		if len(second) >= whole {
			t.Errorf("the resumed sync made %d requests, a whole sync %d: it should fetch less", len(second), whole)
		}
		for _, report := range []string{reportA1, reportA2} {
			if n := countMatching(second, report); n != 0 {
				t.Errorf("the resumed sync read the results of %s again (%d requests)", report, n)
			}
		}
		assertSameTables(t, dbtest.Dump(t, dsn), imported(t, e, dir))
	})
}

// Throttling, unavailability, a reset connection and an expired token are retried, counted and
// logged with the request's client-request-id; the sync ends with the whole content.
func TestSyncRetriesTransientFaults(t *testing.T) {
	dir := fixture(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		srv.PageSize = 2
		srv.Inject(msgraphtest.Fault{Match: "/runs", Kind: msgraphtest.Throttle, RetryAfter: "1"})
		srv.Inject(msgraphtest.Fault{Match: "/taskReports?", Kind: msgraphtest.Unavailable, Times: 2})
		srv.Inject(msgraphtest.Fault{Match: reportB2 + "/taskProcessingResults", Kind: msgraphtest.ResetMidBody})
		srv.Inject(msgraphtest.Fault{Match: "/tasks", Kind: msgraphtest.ExpireToken})
		srv.Inject(msgraphtest.Fault{Match: "users", Kind: msgraphtest.Throttle, RetryAfter: "0"})
		store, dsn := storeFor(t, e)
		s := newSyncer(t, srv, store, 4)
		start := time.Now()
		if _, err := s.sync(context.Background(), store); err != nil {
			t.Fatalf("sync: %v\n%s", err, s.logs)
		}
		elapsed := time.Since(start)
		assertSameTables(t, dbtest.Dump(t, dsn), imported(t, e, dir))

		st := s.client.Stats()
		t.Logf("%d requests, %d retries, %d throttled, %d tokens, %s", st.Requests, st.Retries, st.Throttled, s.creds.Fetched(), elapsed)
		if st.Retries != 6 || st.Throttled != 4 {
			t.Errorf("retries = %d, throttled = %d; want 6 and 4", st.Retries, st.Throttled)
		}
		if got := s.creds.Fetched(); got != 2 {
			t.Errorf("%d tokens fetched, want 2 (one refresh after the 401)", got)
		}
		if elapsed < time.Second {
			t.Errorf("sync took %s: Retry-After: 1 was not honoured", elapsed)
		}
		var faulted []msgraphtest.Logged
		for _, l := range srv.Requests() {
			if l.Fault != "" {
				faulted = append(faulted, l)
			}
		}
		if len(faulted) != 6 {
			t.Errorf("the double injected %d faults, want 6", len(faulted))
		}
		logs := s.logs.String()
		for _, l := range faulted {
			if !strings.Contains(logs, "client_request_id="+l.ClientRequestID) {
				t.Errorf("the %s failure of %s is not logged with its client-request-id %s", l.Fault, l, l.ClientRequestID)
			}
		}
	})
}

// A permanent fault (403, malformed JSON) stops its workflow with a message that says what and
// where; the other workflows complete, what was committed stays, and the next sync resumes.
func TestSyncPermanentFaultStopsThatWorkflow(t *testing.T) {
	for _, tc := range []struct {
		kind msgraphtest.FaultKind
		want []string
	}{
		{msgraphtest.Forbidden, []string{"403 Forbidden", "Authorization_RequestDenied", "LifecycleWorkflows-Reports.Read.All", "client-request-id"}},
		{msgraphtest.MalformedJSON, []string{"invalid JSON at line 1", "client-request-id", "taskProcessingResults"}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			dir := msgraphtest.CopyFixture(t, fixture(t))
			const other = "0c0ffee0-0000-4000-8000-000000000002"
			msgraphtest.EditCollection(t, dir, "identityGovernance/lifecycleWorkflows/workflows", func(r []map[string]any) []map[string]any {
				return append(r, map[string]any{"id": other, "displayName": "Second", "category": "leaver", "isEnabled": true, "version": 1})
			})
			dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
				srv := msgraphtest.New(t, dir)
				srv.Inject(msgraphtest.Fault{Match: reportB1 + "/taskProcessingResults", Kind: tc.kind})
				store, dsn := storeFor(t, e)
				s := newSyncer(t, srv, store, 1)
				_, err := s.sync(context.Background(), store)
				var we *msgraph.WorkflowError
				if !errors.As(err, &we) || we.ID != workflowID {
					t.Fatalf("err = %v, want a *WorkflowError for %s", err, workflowID)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				t.Logf("message: %v", err)
				if n := countMatching(srv.Requests(), reportB1); n != 1 {
					t.Errorf("the permanent fault was tried %d times, want once", n)
				}
				ctx := tenantctx.WithTenant(context.Background(), tenant)
				partial := dbtest.Dump(t, dsn)
				if n := len(partial["task_processing_results"]); n != 4 {
					t.Errorf("%d results kept, want the 4 of run %s", n, runDad)
				}
				if done, _, _ := store.SyncState(ctx, workflowID); done != nil {
					t.Errorf("the failed workflow is recorded as complete: %+v", done)
				}
				if done, _, _ := store.SyncState(ctx, other); done == nil {
					t.Errorf("the other workflow did not complete")
				}

				srv.ResetLog()
				if _, err := s.sync(context.Background(), store); err != nil {
					t.Fatal(err)
				}
				if n := countMatching(srv.Requests(), reportA1); n != 0 {
					t.Errorf("the next sync read the committed run again")
				}
				assertSameTables(t, dbtest.Dump(t, dsn), imported(t, e, dir))
			})
		})
	}
}

// changeRun plays an upstream change of run dad77a47: a later lastUpdatedDateTime, and a report
// whose counters moved because a result failed.
func changeRun(t *testing.T, dir string) {
	msgraphtest.EditCollection(t, dir, wfDir+"/runs", func(r []map[string]any) []map[string]any {
		for _, run := range r {
			if run["id"] == runDad {
				run["lastUpdatedDateTime"] = "2022-08-26T08:00:00.1234567Z"
				run["failedUsersCount"], run["successfulUsersCount"], run["failedTasksCount"] = 1, 1, 1
			}
		}
		return r
	})
	msgraphtest.EditCollection(t, dir, wfDir+"/taskReports", func(r []map[string]any) []map[string]any {
		for _, rep := range r {
			if rep["id"] == reportA1 {
				rep["successfulUsersCount"], rep["failedUsersCount"] = 1, 1
				rep["processingStatus"] = "completedWithErrors"
				rep["lastUpdatedDateTime"] = "2022-08-26T08:00:00.1234567Z"
			}
		}
		return r
	})
	msgraphtest.EditCollection(t, dir, wfDir+"/taskReports/"+reportA1+"/taskProcessingResults", func(r []map[string]any) []map[string]any {
		r[0]["processingStatus"] = "failed"
		r[0]["failureReason"] = "The user was not found"
		return r
	})
}

// After a run changes upstream, an incremental sync fetches that run's reports, results and
// subjects only, and the store shows the change.
func TestIncrementalSyncFetchesOnlyTheChangedRun(t *testing.T) {
	for _, reject := range []bool{false, true} {
		name := "runId filter"
		if reject {
			name = "Graph refuses the runId filter"
		}
		t.Run(name, func(t *testing.T) {
			dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
				dir := msgraphtest.CopyFixture(t, fixture(t)) // each engine edits its own copy
				srv := msgraphtest.New(t, dir)
				srv.RejectRunIDFilter = reject
				store, dsn := storeFor(t, e)
				s := newSyncer(t, srv, store, 4)
				if _, err := s.sync(context.Background(), store); err != nil {
					t.Fatal(err)
				}
				before := dbtest.Dump(t, dsn)

				changeRun(t, dir)
				srv.ResetLog()
				stats, err := s.sync(context.Background(), store)
				if err != nil {
					t.Fatal(err)
				}
				log := srv.Requests()
				t.Logf("incremental sync: %q", paths(log))
				for _, other := range []string{reportB1, reportB2} {
					if n := countMatching(log, other); n != 0 {
						t.Errorf("%s of the unchanged run was read again", other)
					}
				}
				for _, report := range []string{reportA1, reportA2} {
					if n := countMatching(log, report+"/taskProcessingResults"); n != 1 {
						t.Errorf("results of %s read %d times, want once", report, n)
					}
				}
				filtered := countMatching(log, "taskReports?$expand=task,taskDefinition&$filter=runId eq '"+runDad+"'")
				whole := 0
				for _, l := range log {
					if strings.HasSuffix(l.Path, "/taskReports") && l.Query.Get("$filter") == "" {
						whole++
					}
				}
				if !reject && (filtered != 1 || whole != 0) {
					t.Errorf("reports of the run: %d filtered and %d whole-list requests, want 1 and 0", filtered, whole)
				}
				if reject && (filtered != 1 || whole != 1) {
					t.Errorf("reports when Graph refuses the filter: %d refused and %d whole-list requests, want 1 and 1", filtered, whole)
				}
				if stats.UnchangedRuns != 1 || stats.TaskProcessingResults != 4 {
					t.Errorf("stats = %+v, want 1 unchanged run and 4 results", stats)
				}
				after := dbtest.Dump(t, dsn)
				if reflect.DeepEqual(after["task_reports"], before["task_reports"]) {
					t.Errorf("the report's new counters were not stored")
				}
				assertSameTables(t, after, imported(t, e, dir))
			})
		})
	}
}

// An unfinished run is read on every sync, even when no update lists it, until it finishes;
// then no more.
func TestIncrementalSyncFollowsUnfinishedRuns(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		testUnfinishedRuns(t, e)
	})
}

func testUnfinishedRuns(t *testing.T, e dbtest.Engine) {
	dir := msgraphtest.CopyFixture(t, fixture(t))
	setRun := func(status string, completed any) {
		msgraphtest.EditCollection(t, dir, wfDir+"/runs", func(r []map[string]any) []map[string]any {
			for _, run := range r {
				if run["id"] == runDad {
					run["processingStatus"], run["completedDateTime"] = status, completed
				}
			}
			return r
		})
	}
	setRun("inProgress", nil)
	srv := msgraphtest.New(t, dir)
	store, dsn := storeFor(t, e)
	s := newSyncer(t, srv, store, 2)
	entity := wfDir + "/runs/" + runDad
	for i, step := range []struct {
		status     string
		wantEntity int // GETs of the run itself
		wantRead   int // results requests of its reports
	}{
		{"inProgress", 0, 2}, // first sync: everything
		{"inProgress", 1, 2}, // unfinished: read again although outside the watermark's window
		{"completed", 1, 2},  // finished since: read a last time
		{"completed", 0, 0},  // done
		{"completed", 0, 0},  // still done
	} {
		if step.status == "completed" {
			setRun("completed", "2022-08-24T23:28:11.1348860Z")
		}
		srv.ResetLog()
		if _, err := s.sync(context.Background(), store); err != nil {
			t.Fatalf("sync %d: %v", i+1, err)
		}
		log := srv.Requests()
		got := 0
		for _, l := range log {
			if l.Path == entity {
				got++
			}
		}
		read := countMatching(log, reportA1+"/taskProcessingResults") + countMatching(log, reportA2+"/taskProcessingResults")
		if got != step.wantEntity || read != step.wantRead {
			t.Errorf("sync %d: %d GETs of the run, %d result requests; want %d and %d\n%q", i+1, got, read, step.wantEntity, step.wantRead, paths(log))
		}
	}
	assertSameTables(t, dbtest.Dump(t, dsn), imported(t, e, dir))
}

// Users are asked for by id, at most 15 a request, and only those that results name.
func TestSyncFetchesSubjectsByIDInBatches(t *testing.T) {
	dir := msgraphtest.CopyFixture(t, fixture(t))
	var userRecords []map[string]any
	msgraphtest.EditCollection(t, dir, wfDir+"/taskReports/"+reportA1+"/taskProcessingResults", func(r []map[string]any) []map[string]any {
		proto := r[0]
		var out []map[string]any
		for i := range 20 {
			rec := map[string]any{}
			for k, v := range proto {
				rec[k] = v
			}
			rec["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			uid := fmt.Sprintf("11111111-0000-4000-8000-%012d", i)
			rec["subject"] = map[string]any{"id": uid}
			userRecords = append(userRecords, map[string]any{"id": uid, "displayName": fmt.Sprintf("User %d", i)})
			out = append(out, rec)
		}
		return out
	})
	msgraphtest.EditCollection(t, dir, "users", func(r []map[string]any) []map[string]any {
		// Someone no result names: never asked for.
		return append(append(r, userRecords...), map[string]any{"id": "22222222-0000-4000-8000-000000000000", "displayName": "Bystander"})
	})
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		store, dsn := storeFor(t, e)
		s := newSyncer(t, srv, store, 4)
		if _, err := s.sync(context.Background(), store); err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, l := range srv.Requests() {
			if l.Path == "users" {
				sizes = append(sizes, strings.Count(l.Query.Get("$filter"), "'")/2)
				if l.Query.Get("$select") != "id,displayName,userPrincipalName,mail" {
					t.Errorf("%s: $select", l)
				}
			}
		}
		slices.Sort(sizes)
		// Run dad77a47 names 20 + 2 users (one batch of 15, one of 7), run a512bb50 two more.
		if !slices.Equal(sizes, []int{2, 7, 15}) {
			t.Errorf("users asked for in batches of %v, want [2 7 15]", sizes)
		}
		stored := dbtest.Dump(t, dsn)["users"]
		if len(stored) != 24 {
			t.Errorf("%d users stored, want the 24 subjects", len(stored))
		}
		for _, u := range stored {
			if u["display_name"] == nil || u["display_name"] == "Bystander" {
				t.Errorf("user %v", u)
			}
		}
	})
}

// A certificate proves the app instead of a secret: the client assertion is a JWT signed with the
// certificate's key, and the double checks it against the registered certificate.
func TestSyncWithCertificateCredentials(t *testing.T) {
	dir := fixture(t)
	cert, pemFile := msgraphtest.NewCertificate(t)
	parsed, key, err := msgraph.LoadCertificate(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Equal(cert) {
		t.Fatal("LoadCertificate read another certificate")
	}
	srv := msgraphtest.New(t, dir)
	srv.Certificate = cert
	creds, err := msgraph.NewCredentials(msgraph.CredentialsConfig{TokenURL: srv.TokenURL, ClientID: srv.ClientID,
		Scope: srv.URL + "/.default", Certificate: parsed, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	client, err := msgraph.NewClient(msgraph.ClientConfig{BaseURL: srv.GraphURL, Tokens: creds})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := msgraph.WalkWith(context.Background(), client, msgraph.Discard{}, msgraph.WalkOptions{UsersByID: true})
	if err != nil {
		t.Fatal(err)
	}
	if stats != docsStats || creds.Fetched() != 1 {
		t.Errorf("stats = %+v, tokens = %d", stats, creds.Fetched())
	}

	// Another key for the same certificate is refused, once, as a credentials error.
	_, otherPEM := msgraphtest.NewCertificate(t)
	_, otherKey, _ := msgraph.LoadCertificate(otherPEM)
	bad, _ := msgraph.NewCredentials(msgraph.CredentialsConfig{TokenURL: srv.TokenURL, ClientID: srv.ClientID,
		Scope: srv.URL + "/.default", Certificate: parsed, PrivateKey: otherKey})
	if _, err := bad.Token(context.Background()); !errors.Is(err, msgraph.ErrCredentials) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong key: err = %v", err)
	}
	if _, _, err := msgraph.LoadCertificate(append(pemFile[:bytes.Index(pemFile, []byte("-----BEGIN PRIVATE KEY"))], otherPEM[bytes.Index(otherPEM, []byte("-----BEGIN PRIVATE KEY")):]...)); err == nil {
		t.Error("a key of another certificate was accepted")
	}
}

// A refused secret stops at once with the identity platform's reason and never the secret.
func TestWrongSecretIsNotRetriedNorShown(t *testing.T) {
	srv := msgraphtest.New(t, fixture(t))
	const secret = "wrong-secret-value-123"
	logs := &logBuffer{}
	creds, _ := msgraph.NewCredentials(msgraph.CredentialsConfig{TokenURL: srv.TokenURL, ClientID: srv.ClientID,
		Scope: srv.URL + "/.default", ClientSecret: secret})
	client, _ := msgraph.NewClient(msgraph.ClientConfig{BaseURL: srv.GraphURL, Tokens: creds,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	_, err := msgraph.WalkWith(context.Background(), client, msgraph.Discard{}, msgraph.WalkOptions{UsersByID: true})
	if !errors.Is(err, msgraph.ErrCredentials) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v, want the token endpoint's refusal", err)
	}
	if creds.Fetched() != 1 || len(srv.Requests()) != 0 {
		t.Errorf("%d token requests and %d Graph requests after a refusal, want 1 and 0", creds.Fetched(), len(srv.Requests()))
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
		t.Errorf("the secret shows in the error or the logs")
	}
}

// --workflow: only the named workflows are read and stored; a name Graph does not know is an
// error of its own. A request that hangs is given up after the per-request timeout and retried.
func TestSyncNamedWorkflowsWithATimeout(t *testing.T) {
	dir := msgraphtest.CopyFixture(t, fixture(t))
	const other = "0c0ffee0-0000-4000-8000-000000000002"
	msgraphtest.EditCollection(t, dir, "identityGovernance/lifecycleWorkflows/workflows", func(r []map[string]any) []map[string]any {
		return append(r, map[string]any{"id": other, "displayName": "Second", "category": "leaver", "isEnabled": true, "version": 1})
	})
	srv := msgraphtest.New(t, dir)
	srv.Inject(msgraphtest.Fault{Match: "/tasks", Kind: msgraphtest.Hang})
	creds, _ := msgraph.NewCredentials(msgraph.CredentialsConfig{TokenURL: srv.TokenURL, ClientID: srv.ClientID,
		Scope: srv.URL + "/.default", ClientSecret: srv.Secret})
	client, _ := msgraph.NewClient(msgraph.ClientConfig{BaseURL: srv.GraphURL, Tokens: creds,
		RequestTimeout: 300 * time.Millisecond, InitialBackoff: time.Millisecond})
	start := time.Now()
	stats, err := msgraph.WalkWith(context.Background(), client, msgraph.Discard{}, msgraph.WalkOptions{
		Workflows: []string{strings.ToUpper(workflowID), "no-such-workflow"}, UsersByID: true, KeepGoing: true})
	var we *msgraph.WorkflowError
	if !errors.As(err, &we) || we.ID != "no-such-workflow" || strings.Contains(err.Error(), workflowID) {
		t.Errorf("err = %v, want the unknown workflow's error only", err)
	}
	if stats.Workflows != 1 || stats.TaskProcessingResults != 8 {
		t.Errorf("stats = %+v, want the named workflow's", stats)
	}
	if n := countMatching(srv.Requests(), other); n != 0 {
		t.Errorf("the workflow not named was read (%d requests)", n)
	}
	if st := client.Stats(); st.Retries != 1 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("the hanging request: %d retries after %s, want 1 after the 300ms timeout", st.Retries, time.Since(start))
	}
}

// A full sync of the history folder reads every collection it holds (user processing results,
// versions, deleted workflows) with every request answered, and stores what an import stores.
func TestSyncReadsHistory(t *testing.T) {
	dir := msgraphtest.HistoryExample(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		srv.PageSize = 1 // every collection of more than one record pages
		store, dsn := storeFor(t, e)
		s := newSyncer(t, srv, store, 2)
		stats, err := s.sync(context.Background(), store)
		if err != nil {
			t.Fatalf("sync: %v\n%s", err, s.logs)
		}
		wf := "identityGovernance/lifecycleWorkflows/workflows/*/"
		uprs, versions := records(t, dir, wf+"runs/*/userProcessingResults.json"), records(t, dir, wf+"versions.json")
		deleted := records(t, dir, "identityGovernance/lifecycleWorkflows/deletedItems/workflows.json")
		if stats.UserProcessingResults != uprs || stats.WorkflowVersions != versions || stats.DeletedWorkflows != deleted || uprs == 0 {
			t.Errorf("stats = %+v, want %d user processing results, %d versions, %d deleted workflows", stats, uprs, versions, deleted)
		}
		assertSameTables(t, dbtest.Dump(t, dsn), imported(t, e, dir))
		for _, l := range srv.Requests() {
			if l.Status != 200 {
				t.Errorf("%s answered %d", l, l.Status)
			}
		}
		if countMatching(srv.Requests(), "/userProcessingResults?$skiptoken") == 0 {
			t.Errorf("user processing results were not paged: %q", paths(srv.Requests()))
		}
	})
}

// records counts the records of the collection files of dir that match pattern.
func records(t *testing.T, dir, pattern string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		var c struct{ Value []json.RawMessage }
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil {
			t.Fatal(err)
		}
		n += len(c.Value)
	}
	return n
}
