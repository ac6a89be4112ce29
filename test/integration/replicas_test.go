package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
)

// over is a handler that sends each request over HTTP to a running server, so graphtest's
// helpers talk to it as a client behind a load balancer would.
func over(t testing.TB, srv *httptest.Server) http.Handler {
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// TestTwoGatewaysOnOnePostgres runs two gateways, each with its own store (its own connection
// pool, as two processes would have), in front of one PostgreSQL database. What is imported
// through one is answered by the other, and a change imported after the other has answered shows
// there on the very next request: no gateway keeps anything between requests, so any number of
// them can sit behind a load balancer.
func TestTwoGatewaysOnOnePostgres(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	storeA, storeB := dbtest.Open(t, dsn), dbtest.Open(t, dsn)
	srvA, srvB := httptest.NewServer(quietMux(storeA)), httptest.NewServer(quietMux(storeB))
	defer srvA.Close()
	defer srvB.Close()
	a, b := over(t, srvA), over(t, srvB)

	// B answers first, from an empty database: nothing it reads now may linger.
	const wfQuery = `query($id: ID!) { workflows { totalCount } workflow(id: $id) { displayName
		taskReportSummary(startDateTime: "2022-08-01T00:00:00Z", endDateTime: "2022-09-01T00:00:00Z") { successfulTasks failedTasks totalTasks } } }`
	type wfAnswer struct {
		Workflows struct{ TotalCount int }
		Workflow  *struct {
			DisplayName       string
			TaskReportSummary struct{ SuccessfulTasks, FailedTasks, TotalTasks int }
		}
	}
	var empty wfAnswer
	graphtest.MustData(t, b, wfQuery, map[string]any{"id": docsWorkflow}, &empty)
	if empty.Workflows.TotalCount != 0 || empty.Workflow != nil {
		t.Fatalf("B before the import: %+v", empty)
	}

	dir := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
	if _, err := msgraph.ImportDir(context.Background(), storeA, dir); err != nil {
		t.Fatal(err)
	}
	want := msgraphtest.ReadExpected(t, dir)
	checkDocsFixtureAnswers(t, b, want)
	var before wfAnswer
	graphtest.MustData(t, b, wfQuery, map[string]any{"id": docsWorkflow}, &before)
	if before.Workflow == nil || before.Workflow.TaskReportSummary.FailedTasks != 0 || before.Workflow.TaskReportSummary.TotalTasks != 8 {
		t.Fatalf("B after the import: %+v", before)
	}

	// Graph's next copy: the workflow was renamed and one user of the last report failed.
	const renamed = "Onboard new hires (renamed)"
	wfFile := filepath.Join(dir, "identityGovernance", "lifecycleWorkflows", "workflows.json")
	reportsFile := filepath.Join(dir, "identityGovernance", "lifecycleWorkflows", "workflows", docsWorkflow, "taskReports.json")
	editValues(t, wfFile, func(v map[string]any) {
		if v["id"] == docsWorkflow {
			v["displayName"] = renamed
		}
	})
	editValues(t, reportsFile, func(v map[string]any) {
		if v["id"] == "e3dd0719-a50a-463d-b32d-7176fa4519e4" {
			v["successfulUsersCount"], v["failedUsersCount"], v["processingStatus"] = 1, 1, "completedWithErrors"
		}
	})
	if _, err := msgraph.ImportDir(context.Background(), storeA, dir); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{"B": b, "A": a} {
		var after wfAnswer
		graphtest.MustData(t, h, wfQuery, map[string]any{"id": docsWorkflow}, &after)
		if after.Workflow == nil || after.Workflow.DisplayName != renamed ||
			after.Workflow.TaskReportSummary != (struct{ SuccessfulTasks, FailedTasks, TotalTasks int }{7, 1, 8}) {
			t.Errorf("%s right after the second import: %+v", name, after.Workflow)
		}
	}
}

// editValues changes the records of a saved Graph page ({"value": [...]}) in place.
func editValues(t testing.TB, path string, fn func(map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var page map[string]any
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	values, _ := page["value"].([]any)
	for _, v := range values {
		fn(v.(map[string]any))
	}
	if raw, err = json.MarshalIndent(page, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplicasMigrateAtOnce opens three stores on one PostgreSQL database at the same moment, as
// replicas started together by an orchestrator would: every one succeeds and each migration is
// applied once. Two starting points: a fresh database, and one whose version table exists with
// every migration pending (a release that brings new migrations, rolled out to all replicas at
// once). On a fresh database goose's own retries around creating its version table already
// spread the replicas apart; in the second case only the advisory lock keeps two replicas from
// running the same CREATE TABLE at once (without it, this case fails).
func TestReplicasMigrateAtOnce(t *testing.T) {
	for _, pending := range []bool{false, true} {
		dsn := dbtest.PostgresDSN(t)
		if pending {
			versionTableOnly(t, dsn)
		}
		const replicas = 3
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Go(func() {
				<-start
				s, err := db.Open(context.Background(), dsn)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("pending=%v: replica %d: %v", pending, i, err)
			}
		}

		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT version_id, count(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id`)
		if err != nil {
			t.Fatal(err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Version, Count int64 }])
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) < 2 {
			t.Errorf("pending=%v: migrations recorded: %+v, want 00001 and 00002 at least", pending, versions)
		}
		for _, v := range versions {
			if v.Count != 1 {
				t.Errorf("pending=%v: migration %d recorded %d times", pending, v.Version, v.Count)
			}
		}
	}
}

// versionTableOnly migrates dsn, then drops every table the migrations made and forgets them,
// leaving goose's version table as goose leaves it before the first migration.
func versionTableOnly(t testing.TB, dsn string) {
	t.Helper()
	_ = dbtest.Open(t, dsn).Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if _, err := conn.Exec(ctx, "DROP TABLE "+pgx.Identifier{table}.Sanitize()+" CASCADE"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, "DELETE FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
}

// TestReadReplicaTakesQueries points --db at one database and --db-read at another that holds
// other data: the API answers from the replica, and an import writes to the primary only.
// (A real replica follows its primary by streaming replication; two independent databases make
// visible which one each statement went to.)
func TestReadReplicaTakesQueries(t *testing.T) {
	ctx := context.Background()
	primaryDSN, replicaDSN := dbtest.PostgresDSN(t), dbtest.PostgresDSN(t)
	primary, replica := dbtest.Open(t, primaryDSN), dbtest.Open(t, replicaDSN)
	if _, err := demo.Seed(ctx, replica, demo.Options{Workflows: 2, RunsPerWorkflow: 2, Users: 8, Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}, nil); err != nil {
		t.Fatal(err)
	}

	store, err := db.OpenWith(ctx, db.Config{DSN: primaryDSN, ReadDSN: replicaDSN})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := msgraph.ImportDir(ctx, store, fixtureDir(t, "msgraph-docs-example")); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*db.Store{"primary": primary, "replica": replica} {
		found, err := s.WorkflowsByID(ctx, []string{docsWorkflow})
		if err != nil {
			t.Fatal(err)
		}
		if has := found[docsWorkflow] != nil; has != (name == "primary") {
			t.Errorf("docs workflow on the %s: %v; want it on the primary only", name, has)
		}
	}

	srv := httptest.NewServer(quietMux(store))
	defer srv.Close()
	var got struct {
		Workflows struct{ TotalCount int }
		Workflow  *struct{ ID string }
	}
	graphtest.MustData(t, over(t, srv), `query($id: ID!) { workflows { totalCount } workflow(id: $id) { id } }`,
		map[string]any{"id": docsWorkflow}, &got)
	if got.Workflows.TotalCount != 2 || got.Workflow != nil {
		t.Errorf("answered %+v; want the replica's 2 demo workflows and not the primary's docs workflow", got)
	}
}
