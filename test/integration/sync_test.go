package integration_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lcw-gateway/cli"
	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/syncer"
	"lcw-gateway/tenant"
)

const syncTenant = "5f1c2a3b-0000-4000-8000-00000000bbbb"

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI parses args as the gateway's command line and runs the command, logging into logs.
func runCLI(t *testing.T, ctx context.Context, logs io.Writer, args ...string) error {
	t.Helper()
	return cli.Run(ctx, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), args...)
}

// asTenant scopes every request to a tenant, as the auth guard does for a token of that tenant.
func asTenant(h http.Handler, tenantID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(tenant.WithTenant(r.Context(), tenantID)))
	})
}

// `lcw-gateway sync` against the Graph double fills a new database that answers the fixture's
// expected.json through the GraphQL API; its logs hold a closing line and never the secret.
func TestSyncCommandAnswersExpected(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	want := msgraphtest.ReadExpected(t, dir)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		srv.PageSize = 2
		secretFile := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(secretFile, []byte(srv.Secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dsn := e.DSN(t)
		logs := &lockedBuffer{}
		err := runCLI(t, context.Background(), logs, "sync", "--db", dsn, "--graph-url", srv.GraphURL, "--token-url", srv.TokenURL,
			"--tenant-id", strings.ToUpper(syncTenant), "--client-id", srv.ClientID, "--client-secret-file", secretFile)
		if err != nil {
			t.Fatalf("sync: %v\n%s", err, logs)
		}
		out := logs.String()
		if strings.Contains(out, srv.Secret) {
			t.Errorf("the client secret shows in the logs:\n%s", out)
		}
		closing := regexp.MustCompile(`msg="sync finished" tenant=` + syncTenant + ` duration=\S+ taskDefinitions=16 workflows=1 tasks=2 runs=2 unchangedRuns=0 taskReports=4 taskProcessingResults=8 userProcessingResults=0 workflowVersions=0 deletedWorkflows=0 users=4 requests=(\d+) retries=0 throttled=0`)
		m := closing.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no closing line with counts, requests and retries in:\n%s", out)
		}
		if n, _ := strconv.Atoi(m[1]); n != len(srv.Requests()) {
			t.Errorf("closing line says %s requests, the double answered %d", m[1], len(srv.Requests()))
		}

		store := dbtest.Open(t, dsn)
		h := asTenant(server.New(store, slog.New(slog.DiscardHandler), nil), syncTenant)
		for wfID, wf := range want.Workflows {
			var got struct {
				Workflow struct {
					TaskReports struct{ Nodes []struct{ ID string } }
				}
				Results struct{ TotalCount int }
			}
			graphtest.MustData(t, h, `query($id: ID!) {
				workflow(id: $id) { taskReports(first: 500) { nodes { id } } }
				results: taskProcessingResults(workflowId: $id) { totalCount }
			}`, map[string]any{"id": wfID}, &got)
			assertSameIDs(t, "reports of workflow "+wfID, nodeIDs(got.Workflow.TaskReports.Nodes), wf.ReportIDs)
			if got.Results.TotalCount != wf.TprCount {
				t.Errorf("results of workflow: %d, want %d", got.Results.TotalCount, wf.TprCount)
			}
			for runID, ids := range wf.Runs {
				var byRun struct {
					Run struct {
						TaskReports struct{ Nodes []struct{ ID string } }
					}
				}
				graphtest.MustData(t, h, `query($run: ID!) { run(id: $run) { taskReports { nodes { id } } } }`,
					map[string]any{"run": runID}, &byRun)
				assertSameIDs(t, "Run.taskReports of "+runID, nodeIDs(byRun.Run.TaskReports.Nodes), ids)
			}
			for _, s := range wf.Summaries {
				var got struct{ TaskReportSummary db.TaskReportSummary }
				graphtest.MustData(t, h, `query($id: ID!, $s: DateTime!, $e: DateTime!) {
					taskReportSummary(workflowId: $id, startDateTime: $s, endDateTime: $e) { successfulTasks failedTasks unprocessedTasks totalTasks }
				}`, map[string]any{"id": wfID, "s": s.StartDateTime, "e": s.EndDateTime}, &got)
				if got.TaskReportSummary != s.TaskReportSummary {
					t.Errorf("summary [%s, %s] = %+v, want %+v", s.StartDateTime, s.EndDateTime, got.TaskReportSummary, s.TaskReportSummary)
				}
			}
		}
		for id, rep := range want.Reports {
			var got struct{ TaskReport msgraphtest.ExpectedReport }
			graphtest.MustData(t, h, `query($id: ID!) { taskReport(id: $id) {
				id runId processingStatus successfulUsersCount failedUsersCount unprocessedUsersCount totalUsersCount
				startedDateTime completedDateTime lastUpdatedDateTime } }`, map[string]any{"id": id}, &got)
			assertReport(t, got.TaskReport, rep)
		}
		// The same data is not the default tenant's.
		var other struct{ Workflows struct{ TotalCount int } }
		graphtest.MustData(t, server.New(store, slog.New(slog.DiscardHandler), nil), `{ workflows { totalCount } }`, nil, &other)
		if other.Workflows.TotalCount != 0 {
			t.Errorf("the default tenant sees %d workflows of tenant %s", other.Workflows.TotalCount, syncTenant)
		}
	})
}

// The secret from LCW_CLIENT_SECRET never reaches a log line or an error, whether the identity
// platform refuses it or not, at the most verbose log level.
func TestSyncNeverShowsTheSecret(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	srv := msgraphtest.New(t, dir)
	dsn := dbtest.SQLiteDSN(t)
	args := []string{"--log-level", "debug", "sync", "--db", dsn, "--graph-url", srv.GraphURL, "--token-url", srv.TokenURL,
		"--tenant-id", syncTenant, "--client-id", srv.ClientID}

	const wrong = "Wr0ng~Secret.Value-that-must-stay-hidden"
	t.Setenv(syncer.EnvClientSecret, wrong)
	logs := &lockedBuffer{}
	err := runCLI(t, context.Background(), logs, args...)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: err = %v, want the token endpoint's reason", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(logs.String(), wrong) {
		t.Errorf("the wrong secret shows:\nerror: %v\nlogs:\n%s", err, logs)
	}

	t.Setenv(syncer.EnvClientSecret, srv.Secret)
	srv.Inject(msgraphtest.Fault{Match: "/runs", Kind: msgraphtest.ExpireToken})
	srv.Inject(msgraphtest.Fault{Match: "users", Kind: msgraphtest.Forbidden})
	logs = &lockedBuffer{}
	if err := runCLI(t, context.Background(), logs, args...); err != nil {
		t.Fatalf("sync: %v\n%s", err, logs)
	}
	if strings.Contains(logs.String(), srv.Secret) {
		t.Errorf("the secret shows in the logs:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "User.Read.All") {
		t.Errorf("a refused users request is not explained:\n%s", logs)
	}
	if srv.TokensIssued() != 2 {
		t.Errorf("%d tokens issued, want 2 (one refresh)", srv.TokensIssued())
	}
}

// serve --sync-interval syncs in the background; /readyz and /metrics tell the last success and
// its lag, and a failed pass is reported without making the gateway unready.
func TestServeSyncsInTheBackground(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	srv := msgraphtest.New(t, dir)
	t.Setenv(syncer.EnvClientSecret, srv.Secret)
	dsn := dbtest.SQLiteDSN(t)
	store := dbtest.Open(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	bg := syncer.BackgroundFlags{SyncInterval: 300 * time.Millisecond, Graph: syncer.Flags{GraphURL: srv.GraphURL, TokenURL: srv.TokenURL,
		TenantID: syncTenant, ClientID: srv.ClientID, StoreTenant: "default", Concurrency: 4, RequestTimeout: 5 * time.Second,
		Overlap: 10 * time.Minute}}
	loop, err := bg.Start(ctx, logger, store)
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Stop()
	h := server.New(store, logger, nil, server.WithAddons(loop))

	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	eventually(t, func() bool { _, body := get("/readyz"); return strings.Contains(body, "last success") })
	code, body := get("/readyz")
	if code != http.StatusOK || !strings.Contains(body, "sync: every 300ms, last success ") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	// Stored under 'default': a gateway with --auth none serves it.
	var got struct{ TaskProcessingResults struct{ TotalCount int } }
	graphtest.MustData(t, h, `{ taskProcessingResults(workflowId: "14879e66-9ea9-48d0-804d-8fea672d0341") { totalCount } }`, nil, &got)
	if got.TaskProcessingResults.TotalCount != 8 {
		t.Errorf("%d results served, want 8", got.TaskProcessingResults.TotalCount)
	}

	_, metrics := get("/metrics")
	value := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(metrics)
		if m == nil {
			t.Errorf("/metrics has no %s", name)
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if ts := value("lcw_sync_last_success_timestamp_seconds"); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last success %v is not recent", ts)
	}
	if lag := value("lcw_sync_lag_seconds"); lag < 0 || lag > 60 {
		t.Errorf("lag = %v", lag)
	}
	if n := value(`lcw_sync_records_total{collection="taskProcessingResults"}`); n != 8 {
		t.Errorf("records of taskProcessingResults = %v, want 8 (the later passes find nothing new)", n)
	}
	if n := value("lcw_sync_graph_requests_total"); n < 10 {
		t.Errorf("graph requests = %v", n)
	}
	value("lcw_sync_graph_retries_total")

	// A pass that fails is told on /readyz; the gateway stays ready and serves what it has.
	srv.Inject(msgraphtest.Fault{Match: "workflows", Kind: msgraphtest.Forbidden, Times: 1000})
	eventually(t, func() bool { _, body := get("/readyz"); return strings.Contains(body, "last pass failed") })
	code, body = get("/readyz")
	if code != http.StatusOK || !strings.Contains(body, "403 Forbidden") {
		t.Errorf("/readyz after a failed pass = %d %q", code, body)
	}
	last, ok, err := store.LastSync(context.Background())
	if err != nil || !ok || last.LastError == nil || last.LastSuccessAt == nil {
		t.Errorf("recorded sync status = %+v, %v, %v", last, ok, err)
	}
}
