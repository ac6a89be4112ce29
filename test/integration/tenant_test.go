package integration_test

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/syncer"
)

// startServe runs `lcw-gateway args...` (serve, the default command, on a free port) until the
// test ends and returns a handler that sends requests to it over HTTP.
func startServe(t *testing.T, logs *lockedBuffer, args ...string) http.Handler {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runCLI(t, ctx, logs, append(args, "--addr", "127.0.0.1:0")...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs)
		}
	})
	serving := regexp.MustCompile(`msg="serving GraphQL" url=(\S+)`)
	var m []string
	eventually(t, func() bool { m = serving.FindStringSubmatch(logs.String()); return m != nil })
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	// A client of the gateway sends its address as Host; --auth none refuses other names (the
	// DNS-rebinding guard), and httptest's requests say example.com.
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
}

func workflowIDs(t *testing.T, h http.Handler) []string {
	t.Helper()
	var got struct {
		Workflows struct{ Nodes []struct{ ID string } }
	}
	graphtest.MustData(t, h, `{ workflows(first: 500) { nodes { id } } }`, nil, &got)
	ids := nodeIDs(got.Workflows.Nodes)
	slices.Sort(ids)
	return ids
}

// The one documented tenant setting, LCW_TENANT_ID, is all it takes: `sync` stores under it and
// `serve` (--auth none) answers from it, with the synced workflows and no demo data.
func TestSyncThenServeOneTenant(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	want := msgraphtest.ReadExpected(t, dir)
	var wantIDs []string
	for id := range want.Workflows {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		t.Setenv("LCW_TENANT_ID", syncTenant)
		t.Setenv(syncer.EnvClientSecret, srv.Secret)
		dsn := e.DSN(t)
		logs := &lockedBuffer{}
		if err := runCLI(t, context.Background(), logs, "sync", "--db", dsn, "--graph-url", srv.GraphURL, "--token-url", srv.TokenURL,
			"--client-id", srv.ClientID); err != nil {
			t.Fatalf("sync: %v\n%s", err, logs)
		}
		logs = &lockedBuffer{}
		h := startServe(t, logs, "--db", dsn)
		if got := workflowIDs(t, h); !slices.Equal(got, wantIDs) {
			t.Errorf("serve after sync answers workflows %v, want the synced %v\n%s", got, wantIDs, logs)
		}
		for id, wf := range want.Workflows {
			var got struct{ Results struct{ TotalCount int } }
			graphtest.MustData(t, h, `query($id: ID!) { results: taskProcessingResults(workflowId: $id) { totalCount } }`,
				map[string]any{"id": id}, &got)
			if got.Results.TotalCount != wf.TprCount {
				t.Errorf("results of workflow %s: %d, want %d", id, got.Results.TotalCount, wf.TprCount)
			}
		}
		if strings.Contains(logs.String(), "demo data ready") || strings.Contains(logs.String(), "holds no workflows") {
			t.Errorf("serve seeded demo data or missed the synced tenant:\n%s", logs)
		}
	})
}

// A gateway whose tenant is empty while another tenant holds data says so in one line at start,
// naming that tenant and the flag that serves it; it does not hide the data behind demo data.
// Given that tenant, it serves its data without a word.
func TestServeNamesTheTenantThatHoldsData(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	const other = "7a1c2a3b-0000-4000-8000-00000000cccc"
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		logs := &lockedBuffer{}
		if err := runCLI(t, context.Background(), logs, "import", "--db", dsn, "--tenant-id", other, dir); err != nil {
			t.Fatalf("import: %v\n%s", err, logs)
		}
		logs = &lockedBuffer{}
		h := startServe(t, logs, "--db", dsn)
		line := `level=WARN msg="tenant default holds no workflows, tenant ` + other + ` holds 1: serve it with --tenant-id ` + other +
			` (or LCW_TENANT_ID=` + other + `)" tenant=default tenantWithData=` + other + ` tenantsWithData=1`
		if n := strings.Count(logs.String(), line); n != 1 {
			t.Errorf("%d lines\n%s\nin\n%s", n, line, logs)
		}
		if got := workflowIDs(t, h); len(got) != 0 {
			t.Errorf("the tenant default answers workflows %v, want none (no demo data over imported data)", got)
		}

		logs = &lockedBuffer{}
		h = startServe(t, logs, "--db", dsn, "--tenant-id", other)
		if got := workflowIDs(t, h); len(got) != 1 {
			t.Errorf("serve --tenant-id %s answers workflows %v, want the imported one", other, got)
		}
		if strings.Contains(logs.String(), "holds no workflows") {
			t.Errorf("a tenant with data is said to be empty:\n%s", logs)
		}

		// A tenant named on an empty database gets no demo data (it is meant for real data) and
		// says how to fill it.
		logs = &lockedBuffer{}
		h = startServe(t, logs, "--db", e.DSN(t), "--tenant-id", other)
		line = `level=WARN msg="tenant ` + other + ` holds no workflows, nor does any other: fill it with sync, import or seed --tenant-id ` +
			other + `" tenant=` + other
		if n := strings.Count(logs.String(), line); n != 1 || strings.Contains(logs.String(), "demo data ready") {
			t.Errorf("%d lines\n%s\nand no demo data wanted in\n%s", n, line, logs)
		}
		if got := workflowIDs(t, h); len(got) != 0 {
			t.Errorf("serve --tenant-id %s on an empty database answers workflows %v, want none", other, got)
		}
	})
}
