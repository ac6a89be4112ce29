package integration_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace/noop"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/endpoint"
	"lcw-gateway/graph"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/server"
)

// benchNow pins the demo data set, so its windows and cursors are the same on every run.
var benchNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchDemoOptions are the options of the benchmarks' data set of about `results` task
// processing results: pinned, so every run measures the same rows.
func benchDemoOptions(results int) demo.Options {
	opts := demo.OptionsForResults(results)
	opts.Now, opts.Seed = benchNow, 7
	return opts
}

// benchGeneration changes whenever the generator writes something new for the same options
// (2: user processing results), so a data set kept by an older build is not reused.
const benchGeneration = 2

// benchKey names a data set by its size and a hash of what it was made from, so a change to the
// generator or to the engine's migrations (another branch's build) never reuses a data set made
// by another.
func benchKey(tb testing.TB, results int, postgres bool) string {
	return strconv.Itoa(results) + "_" + benchHash(tb, benchDemoOptions(results), postgres)
}

// benchHash is a hash of the generator's generation, its options and the engine's migrations.
func benchHash(tb testing.TB, opts demo.Options, postgres bool) string {
	tb.Helper()
	migrations, err := db.MigrationsDigest(postgres)
	if err != nil {
		tb.Fatal(err)
	}
	key := sha1.Sum([]byte(fmt.Sprintf("%d %+v %s", benchGeneration, opts, migrations)))
	return hex.EncodeToString(key[:6])
}

// demoStore opens a store holding the demo data set sized for about `results` task processing
// results, on the engine LCW_BENCH_DB names: "sqlite" (the default) or "postgres", a database on
// the LCW_TEST_POSTGRES server. Large sets take a while to generate, so they are kept (a SQLite
// file in the temporary folder, a PostgreSQL database named lcw_bench_<results>_<hash>) and
// reused by later runs.
func demoStore(tb testing.TB, results int) *db.Store {
	tb.Helper()
	switch engine := os.Getenv("LCW_BENCH_DB"); engine {
	case "", "sqlite":
		return sqliteDemoStore(tb, results)
	case "postgres":
		return postgresDemoStore(tb, results)
	default:
		tb.Fatalf("LCW_BENCH_DB=%s: want sqlite or postgres", engine)
		return nil
	}
}

func sqliteDemoStore(tb testing.TB, results int) *db.Store {
	tb.Helper()
	path := filepath.Join(os.TempDir(), "lcw-demo-"+benchKey(tb, results, false)+".db")
	if _, err := os.Stat(path); err != nil {
		seedSQLiteDemo(tb, results, path)
	}
	return dbtest.Open(tb, path)
}

// seedSQLiteDemo makes the data set in a folder of its own and renames it to path once whole, so
// an interrupted run, or another test process seeding the same set at once, never leaves or opens
// a half-made file at path (the rename of an equal file by another process is harmless).
func seedSQLiteDemo(tb testing.TB, results int, path string) {
	tb.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp(filepath.Dir(path), "lcw-demo-seed-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	seeding := filepath.Join(dir, "demo.db")
	s, err := db.Open(ctx, seeding)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if _, err := demo.Seed(ctx, s, benchDemoOptions(results), nil); err != nil {
		tb.Fatal(err)
	}
	// Everything into the main file, which alone is renamed.
	sqlDB, err := s.SQL()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(seeding, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d results in %s into %s", results, time.Since(start).Round(time.Millisecond), path)
}

// benchSeeded marks a benchmark database whose seed committed (as its comment): one that lacks
// it was left by an interrupted run and is made again.
const benchSeeded = "lcw-gateway benchmark data set, seeded and analyzed"

func postgresDemoStore(tb testing.TB, results int) *db.Store {
	tb.Helper()
	server := os.Getenv(dbtest.EnvPostgres)
	if server == "" {
		tb.Fatalf("LCW_BENCH_DB=postgres needs %s to name the server", dbtest.EnvPostgres)
	}
	ctx := context.Background()
	name := "lcw_bench_" + benchKey(tb, results, true)
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	dsn := u.String()

	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var comment *string
	err = conn.QueryRow(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, name).Scan(&comment)
	if err == nil && comment != nil && *comment == benchSeeded {
		return dbtest.Open(tb, dsn)
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		tb.Fatal(err)
	}
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			tb.Fatal(err)
		}
	}
	s := dbtest.Open(tb, dsn)
	start := time.Now()
	// Generating millions of rows takes minutes: say how far it got, on stderr because a
	// benchmark's log shows only at its end.
	var shown int64
	stats, err := demo.Seed(ctx, s, benchDemoOptions(results), func(done, total int64) {
		if done*10/total > shown {
			shown = done * 10 / total
			fmt.Fprintf(os.Stderr, "%s: %d%% of %d rows after %s\n", name, shown*10, total, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	seeded := time.Since(start)
	// The benchmarks measure a database in its steady state: planner statistics gathered and
	// the visibility map set (index-only scans need it), as autovacuum leaves a table some time
	// after a bulk load.
	sqlDB, err := s.SQL()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+name+" IS '"+benchSeeded+"'"); err != nil {
		tb.Fatal(err)
	}
	msg := fmt.Sprintf("generated %d results (%d rows) in %s (%.0f rows/s), VACUUM ANALYZE %s, into database %s",
		stats.TaskProcessingResults, stats.Rows(), seeded.Round(time.Millisecond), float64(stats.Rows())/seeded.Seconds(),
		(time.Since(start) - seeded).Round(time.Millisecond), name)
	fmt.Fprintln(os.Stderr, msg)
	tb.Log(msg)
	return s
}

// biggestWorkflow is the id of the workflow with the most results.
func biggestWorkflow(tb testing.TB, h http.Handler) string {
	var data struct {
		Workflows struct {
			Nodes []struct {
				ID   string
				Runs struct{ TotalCount int }
			}
		}
	}
	graphtest.MustData(tb, h, `{ workflows(first: 500) { nodes { id runs { totalCount } } } }`, nil, &data)
	best, most := "", -1
	for _, w := range data.Workflows.Nodes {
		if w.Runs.TotalCount > most {
			best, most = w.ID, w.Runs.TotalCount
		}
	}
	return best
}

const dashboardQuery = `query($wf: ID!, $first: Int!) { workflow(id: $wf) { displayName
	taskReports(first: $first) { nodes { id processingStatus successfulUsersCount failedUsersCount totalUsersCount
		task { displayName executionSequence } taskDefinition { displayName category } run { id scheduledDateTime processingStatus }
		taskProcessingResults(first: 20) { nodes { id processingStatus failureReason subject { displayName mail } } } } } } }`

// statementsOf counts the SQL statements one request sends.
func statementsOf(tb testing.TB, store *db.Store, h http.Handler, query string, vars map[string]any) int64 {
	before := store.Statements()
	var out map[string]any
	graphtest.MustData(tb, h, query, vars, &out)
	return store.Statements() - before
}

func quietMux(store *db.Store) http.Handler {
	return server.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

// TestDashboardStatementsConstant: the dashboard query sends the same few statements whatever
// the page size, because every relationship is one batched statement per level. On SQLite that
// is 7 (the workflow, the reports, their tasks, definitions and runs, the results, their
// subjects); on PostgreSQL 3, because a page read joins the to-one relationships selected on
// its items (the workflow, the reports with their task, definition and run, the results with
// their subject: db.Join).
func TestDashboardStatementsConstant(t *testing.T) {
	store := demoStore(t, 10_000)
	h := quietMux(store)
	wf := biggestWorkflow(t, h)
	want := int64(7)
	if os.Getenv("LCW_BENCH_DB") == "postgres" {
		want = 3
	}
	var counts []int64
	for _, first := range []int{1, 10, 50, 100} {
		counts = append(counts, statementsOf(t, store, h, dashboardQuery, map[string]any{"wf": wf, "first": first}))
	}
	for _, n := range counts {
		if n != counts[0] || n > want {
			t.Fatalf("statements for pages of 1, 10, 50, 100 reports: %v; want one constant count of at most %d", counts, want)
		}
	}
	t.Logf("statements per dashboard query: %d", counts[0])
}

// TestSmallQueriesOneStatement: a report by id and a workflow's summary (the bench's Q3 and Q2)
// are one statement each, also when the workflow is unknown (null, not an error).
func TestSmallQueriesOneStatement(t *testing.T) {
	store := demoStore(t, 10_000)
	h := quietMux(store)
	wf := biggestWorkflow(t, h)
	var some struct {
		TaskReports struct{ Nodes []struct{ ID string } }
	}
	graphtest.MustData(t, h, `{ taskReports(first: 1) { nodes { id } } }`, nil, &some)
	const summary = `query($wf: ID!) { taskReportSummary(workflowId: $wf, startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") { totalTasks } }`
	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"lookup", lookupQuery, map[string]any{"id": some.TaskReports.Nodes[0].ID}},
		{"summary", summary, map[string]any{"wf": wf}},
		{"summary of an unknown workflow", summary, map[string]any{"wf": "00000000-0000-0000-0000-000000000000"}},
	} {
		if n := statementsOf(t, store, h, c.query, c.vars); n != 1 {
			t.Errorf("%s: %d statements, want 1", c.name, n)
		}
	}
	var unknown struct{ TaskReportSummary *struct{ TotalTasks int } }
	graphtest.MustData(t, h, summary, map[string]any{"wf": "00000000-0000-0000-0000-000000000000"}, &unknown)
	if unknown.TaskReportSummary != nil {
		t.Errorf("summary of an unknown workflow: %+v, want null", unknown.TaskReportSummary)
	}
}

// benchResults is the data set size of the benchmarks: LCW_BENCH_RESULTS, comma-separated
// (default 10,000; 10000,1000000 for the README's SQLite figures, 10000,1000000,10000000 with
// LCW_BENCH_DB=postgres for docs/performance.md).
func benchResults() []int {
	var sizes []int
	for _, s := range strings.Split(os.Getenv("LCW_BENCH_RESULTS"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			sizes = append(sizes, n)
		}
	}
	if len(sizes) == 0 {
		sizes = []int{10_000}
	}
	return sizes
}

func runQuery(b *testing.B, store *db.Store, h http.Handler, query string, vars map[string]any) {
	b.Helper()
	b.ReportAllocs()
	start := store.Statements()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		var out json.RawMessage // the server's cost, not the client's decoding into maps
		graphtest.MustData(b, h, query, vars, &out)
	}
	// CPU rather than wall time tells the cost of a request on a busy machine.
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(store.Statements()-start)/float64(b.N), "sql-statements/op")
}

// BenchmarkDashboardQuery: a page of reports with task, definition, run and 20 results each with
// their subject.
func BenchmarkDashboardQuery(b *testing.B) {
	for _, results := range benchResults() {
		store := demoStore(b, results)
		h := quietMux(store)
		wf := biggestWorkflow(b, h)
		for _, first := range []int{10, 50, 100} {
			b.Run(fmt.Sprintf("results=%d/reports=%d", results, first), func(b *testing.B) {
				runQuery(b, store, h, dashboardQuery, map[string]any{"wf": wf, "first": first})
			})
		}
	}
}

// middleCursor walks to the middle of the workflow's results and returns the cursor there, so
// the benchmark reads a deep page.
func middleCursor(tb testing.TB, h http.Handler, wf string) (string, int) {
	var total struct{ TaskProcessingResults struct{ TotalCount int } }
	graphtest.MustData(tb, h, `query($wf: ID!) { taskProcessingResults(workflowId: $wf, first: 1) { totalCount } }`,
		map[string]any{"wf": wf}, &total)
	var cursor any
	for seen := 0; seen < total.TaskProcessingResults.TotalCount/2; seen += 500 {
		var p struct {
			TaskProcessingResults struct{ PageInfo struct{ EndCursor string } }
		}
		graphtest.MustData(tb, h, `query($wf: ID!, $after: String) { taskProcessingResults(workflowId: $wf, first: 500, after: $after) { pageInfo { endCursor } } }`,
			map[string]any{"wf": wf, "after": cursor}, &p)
		cursor = p.TaskProcessingResults.PageInfo.EndCursor
	}
	return cursor.(string), total.TaskProcessingResults.TotalCount
}

const deepPageQuery = `query($wf: ID!, $after: String) { taskProcessingResults(workflowId: $wf, first: 50, after: $after) {
	nodes { id processingStatus completedDateTime } } }`

// BenchmarkDeepPage reads 50 results from the middle of a workflow's results.
func BenchmarkDeepPage(b *testing.B) {
	for _, results := range benchResults() {
		store := demoStore(b, results)
		h := quietMux(store)
		wf := biggestWorkflow(b, h)
		cursor, total := middleCursor(b, h, wf)
		b.Run(fmt.Sprintf("results=%d/workflow=%d", results, total), func(b *testing.B) {
			runQuery(b, store, h, deepPageQuery, map[string]any{"wf": wf, "after": cursor})
		})
	}
}

// BenchmarkSummary30Days: Graph's summary and the grouped statistics over the last 30 days.
func BenchmarkSummary30Days(b *testing.B) {
	for _, results := range benchResults() {
		store := demoStore(b, results)
		h := quietMux(store)
		wf := biggestWorkflow(b, h)
		vars := map[string]any{"wf": wf, "s": benchNow.AddDate(0, 0, -30).Format(time.RFC3339), "e": benchNow.Format(time.RFC3339)}
		b.Run(fmt.Sprintf("results=%d/summary", results), func(b *testing.B) {
			runQuery(b, store, h, `query($wf: ID!, $s: DateTime!, $e: DateTime!) { taskReportSummary(workflowId: $wf, startDateTime: $s, endDateTime: $e) { totalTasks failedTasks } }`, vars)
		})
		for _, by := range []string{"task", "day", "run"} {
			b.Run(fmt.Sprintf("results=%d/stats-by-%s", results, by), func(b *testing.B) {
				runQuery(b, store, h, `query($wf: ID!, $s: DateTime!, $e: DateTime!) { workflow(id: $wf) { taskReportStats(startDateTime: $s, endDateTime: $e, groupBy: `+by+`) { key totalTasks failedTasks } } }`, vars)
			})
		}
	}
}

const lookupQuery = `query Q3($id: ID!) { taskReport(id: $id) { id processingStatus successfulUsersCount failedUsersCount
	unprocessedUsersCount totalUsersCount startedDateTime completedDateTime } }`

// BenchmarkLookupLayers: the bench's Q3 (one report by id) through each layer around execution,
// so the cost of what surrounds the executor shows as differences: the bare gqlgen executor
// with the request's loaders; the GraphQL endpoint (HTTP checks, limits and cost, error
// presenter, persisted-query extension); the endpoint with operation metrics and tracing off;
// the whole server (request id, request log, HTTP metrics, otelhttp with tracing off); and the
// server given an APQ hash with the document, which it checks.
func BenchmarkLookupLayers(b *testing.B) {
	store := demoStore(b, 10_000)
	var some struct {
		TaskReports struct{ Nodes []struct{ ID string } }
	}
	graphtest.MustData(b, quietMux(store), `{ taskReports(first: 1) { nodes { id } } }`, nil, &some)
	vars := map[string]any{"id": some.TaskReports.Nodes[0].ID}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	executor := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: store}}))
	executor.AddTransport(transport.POST{})
	executor.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	hash := sha256.Sum256([]byte(lookupQuery))
	apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(hash[:])}}
	for _, layer := range []struct {
		name string
		h    http.Handler
		ext  map[string]any
	}{
		{"executor", loaders.Middleware(store, executor), nil},
		{"endpoint", endpoint.NewHandler(store, logger, endpoint.Options{}), nil},
		{"endpoint+metrics", endpoint.NewHandler(store, logger, endpoint.Options{Metrics: prometheus.NewRegistry(), Tracer: noop.NewTracerProvider()}), nil},
		{"server", quietMux(store), nil},
		{"server+apq", quietMux(store), apq},
	} {
		b.Run(layer.name, func(b *testing.B) {
			body, err := json.Marshal(map[string]any{"query": lookupQuery, "variables": vars, "extensions": layer.ext})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				layer.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
