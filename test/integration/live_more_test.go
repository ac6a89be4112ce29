package integration_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"lcw-gateway/auth"
	"lcw-gateway/auth/authtest"
	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/endpoint"
	"lcw-gateway/live"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/tenant"
)

type gqlError struct {
	Message    string
	Extensions map[string]any
}

// errorsOf is the errors of the next message of id: an error message (a request error), or a
// next whose payload holds errors (a resolver's), which complete follows.
func (c *wsClient) errorsOf(id string) []gqlError {
	c.t.Helper()
	m := c.next(id)
	var errs []gqlError
	switch m.Type {
	case "error":
		_ = json.Unmarshal(m.Payload, &errs)
	case "next":
		var resp struct{ Errors []gqlError }
		_ = json.Unmarshal(m.Payload, &resp)
		errs = resp.Errors
		if done := c.next(id); done.Type != "complete" {
			c.t.Errorf("subscription %s: %s after its error, want complete", id, done.Type)
		}
	}
	if len(errs) == 0 {
		c.t.Fatalf("subscription %s: %s %s, want errors", id, m.Type, m.Payload)
	}
	return errs
}

func reportID(c *wsClient, id string) (string, string) {
	c.t.Helper()
	var ev reportEvent
	c.event(id, &ev)
	return ev.TaskReportChanged.TaskReport.ID, ev.TaskReportChanged.Cursor
}

// TestSubscriptionResumesAfterCursor: a client that reconnects with the cursor of the last event
// it saw receives exactly the changes it missed, in order, then the live ones, nothing twice; a
// cursor older than the retention, or not a cursor, is BAD_USER_INPUT.
func TestSubscriptionResumesAfterCursor(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		dir := importedCopy(t, store)
		srv := liveServer(t, store)
		c := mustDial(t, srv.URL, nil)
		c.subscribe("1", reportSub, map[string]any{"wf": docsWorkflow})
		waitSubscribed(t, srv.URL, 1)
		touchReports(t, dir, 1, docsReportC)
		importDir(t, store, dir)
		_, cursor := reportID(c, "1")
		_ = c.conn.Close(websocket.StatusNormalClosure, "")
		waitSubscribed(t, srv.URL, 0)

		// Three changes while away, one import each.
		for i, id := range []string{docsReportB, docsReportA, docsReportC} {
			touchReports(t, dir, 10+i, id)
			importDir(t, store, dir)
		}
		c = mustDial(t, srv.URL, nil)
		c.subscribe("2", reportSub, map[string]any{"wf": docsWorkflow, "after": cursor})
		for _, want := range []string{docsReportB, docsReportA, docsReportC} {
			if got, _ := reportID(c, "2"); got != want {
				t.Fatalf("replay: %s, want %s", got, want)
			}
		}
		// Then live: the next event is a new change, not a replayed one again.
		waitSubscribed(t, srv.URL, 1)
		touchReports(t, dir, 20, docsReportA)
		importDir(t, store, dir)
		if got, _ := reportID(c, "2"); got != docsReportA {
			t.Fatalf("live after replay: %s, want report A", got)
		}

		c.subscribe("garbage", reportSub, map[string]any{"after": "not-a-cursor"})
		if errs := c.errorsOf("garbage"); errs[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("a garbage cursor: %+v", errs)
		}
		// Everything but the newest entry pruned: the first cursor has expired.
		if _, err := store.PruneChanges(context.Background(), 0, 1000); err != nil {
			t.Fatal(err)
		}
		c.subscribe("expired", reportSub, map[string]any{"after": cursor})
		errs := c.errorsOf("expired")
		if errs[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(errs[0].Message, "query the current state") {
			t.Errorf("an expired cursor: %+v", errs)
		}
	})
}

// TestSubscriptionSeesAnotherWriter: what another store handle on the same database writes (a
// second gateway on PostgreSQL, an import process on the SQLite file) reaches the subscribers of
// this gateway.
func TestSubscriptionSeesAnotherWriter(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		storeA, storeB := dbtest.Open(t, dsn), dbtest.Open(t, dsn)
		dir := importedCopy(t, storeA)
		liveServer(t, storeA) // gateway A, which takes the import
		srvB := liveServer(t, storeB)
		c := mustDial(t, srvB.URL, nil)
		c.subscribe("1", reportSub, map[string]any{"wf": docsWorkflow})
		waitSubscribed(t, srvB.URL, 1)
		touchReports(t, dir, 5, docsReportB)
		importDir(t, storeA, dir)
		if got, _ := reportID(c, "1"); got != docsReportB {
			t.Fatalf("B's subscriber got %s, want report B", got)
		}
	})
}

// liveAuthServer is the real server behind JWT auth with CORS allowing one origin.
func liveAuthServer(t *testing.T, store *db.Store, skew time.Duration, opts ...server.Option) (*httptest.Server, *authtest.Issuer) {
	iss := authtest.NewIssuer(t)
	cfg := auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience, ClockSkew: skew,
		Permissions: []string{"LifecycleWorkflows-Reports.Read.All"}, RateLimit: 10000, RateBurst: 10000}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	guard, err := auth.New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	p := endpoint.DefaultPolicy()
	p.CORSOrigins = []string{"https://dashboard.example"}
	srv := httptest.NewServer(server.New(store, logger, guard, append([]server.Option{server.WithPolicy(p)}, opts...)...))
	t.Cleanup(srv.Close)
	return srv, iss
}

func bearer(t testing.TB, iss *authtest.Issuer, tenant string) map[string]any {
	return map[string]any{"Authorization": "Bearer " + iss.Sign(t, iss.Claims(tenant, "user-of-"+tenant, "LifecycleWorkflows-Reports.Read.All"))}
}

// TestSubscriptionAuth: with --auth jwt the token of connection_init is checked like a request's
// (none or a bad one closes the socket with 4403), a foreign Origin is refused at the upgrade, and
// the socket closes when the token expires.
func TestSubscriptionAuth(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	srv, iss := liveAuthServer(t, store, 0)
	var ce websocket.CloseError
	foreign := iss.Claims(tenantA, "u", "LifecycleWorkflows-Reports.Read.All")
	foreign["iss"] = "https://evil.example"
	for name, payload := range map[string]map[string]any{
		"no token":        nil,
		"bad token":       {"Authorization": "Bearer not.a.token"},
		"foreign issuer":  {"Authorization": "Bearer " + iss.Sign(t, foreign)},
		"no permissions":  {"Authorization": "Bearer " + iss.Sign(t, iss.Claims(tenantA, "u", "User.Read"))},
		"token in header": nil, // a header on the upgrade is not connection_init
	} {
		header := http.Header{}
		if name == "token in header" {
			header.Set("Authorization", bearer(t, iss, tenantA)["Authorization"].(string))
		}
		_, err := dialWS(t, srv.URL, header, payload)
		if !errors.As(err, &ce) || ce.Code != 4403 {
			t.Errorf("%s: %v, want close 4403", name, err)
		}
	}
	if _, err := dialWS(t, srv.URL, http.Header{"Origin": {"https://evil.example"}}, bearer(t, iss, tenantA)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a foreign Origin: %v, want HTTP 403", err)
	}
	if _, err := dialWS(t, srv.URL, http.Header{"Origin": {"https://dashboard.example"}}, bearer(t, iss, tenantA)); err != nil {
		t.Errorf("an allow-listed Origin: %v", err)
	}
	if _, err := dialWS(t, srv.URL, http.Header{"Origin": {srv.URL}}, bearer(t, iss, tenantA)); err != nil {
		t.Errorf("the gateway's own Origin: %v", err)
	}

	claims := iss.Claims(tenantA, "u", "LifecycleWorkflows-Reports.Read.All")
	claims["exp"] = time.Now().Add(2 * time.Second).Unix()
	c, err := dialWS(t, srv.URL, nil, map[string]any{"Authorization": "Bearer " + iss.Sign(t, claims)})
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", reportSub, nil)
	select {
	case ce := <-c.closed:
		if ce.Code != 4403 || !strings.Contains(ce.Reason, "expired") {
			t.Errorf("at expiry: close %d %q, want 4403 and why", ce.Code, ce.Reason)
		}
	case <-time.After(waitFor):
		t.Fatal("the socket stayed open past the token's expiry")
	}
}

// TestSubscriptionTenantIsolation: a subscriber of tenant A receives nothing of tenant B's
// changes by any subscription, and its own.
func TestSubscriptionTenantIsolation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		ctx := context.Background()
		dirA := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
		dirB := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
		if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, tenantA), store, dirA); err != nil {
			t.Fatal(err)
		}
		srv, iss := liveAuthServer(t, store, time.Minute)
		subs := map[string]string{
			"reports": `subscription { taskReportChanged { taskReport { id } } }`,
			"runs":    `subscription { runChanged { run { id } } }`,
			"results": `subscription { taskProcessingResultChanged { taskProcessingResult { id } } }`,
		}
		a, err := dialWS(t, srv.URL, nil, bearer(t, iss, tenantA))
		if err != nil {
			t.Fatal(err)
		}
		for id, q := range subs {
			a.subscribe(id, q, nil)
		}
		waitSubscribed(t, srv.URL, 3, bearer(t, iss, tenantA)["Authorization"].(string))
		// Tenant B gets the whole fixture (new rows of every kind), then tenant A one report.
		if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, tenantB), store, dirB); err != nil {
			t.Fatal(err)
		}
		touchReports(t, dirA, 30, docsReportA)
		if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, tenantA), store, dirA); err != nil {
			t.Fatal(err)
		}
		if got, _ := reportID(a, "reports"); got != docsReportA {
			t.Fatalf("tenant A's first report event is %s, want its own report A", got)
		}
		// B's rows came first; had any reached A, they would be the first events. Runs and
		// results of A did not change: their subscriptions stay silent, which a ping proves.
		a.send(wsMessage{Type: "ping"})
		for {
			m, ok := <-a.msgs
			if !ok {
				t.Fatalf("tenant A's socket closed: %v", a.end)
			}
			if m.Type == "pong" {
				break
			}
			t.Fatalf("tenant A received %s %s %s", m.Type, m.ID, m.Payload)
		}
	})
}

// TestSubscriptionLimits: subscriptions per connection and connections per principal are
// bounded; a subscription over plain HTTP is refused; operation limits apply to subscriptions.
func TestSubscriptionLimits(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	cfg := live.DefaultConfig()
	cfg.MaxSubscriptionsPerConnection, cfg.MaxConnectionsPerPrincipal = 1, 2
	p := endpoint.DefaultPolicy()
	p.MaxDepth = 3
	srv := liveServer(t, store, server.WithLive(cfg), server.WithPolicy(p))
	c := mustDial(t, srv.URL, nil)
	c.subscribe("1", `subscription { runChanged { cursor } }`, nil)
	waitSubscribed(t, srv.URL, 1)
	c.subscribe("2", `subscription { runChanged { cursor } }`, nil)
	if errs := c.errorsOf("2"); errs[0].Extensions["code"] != "LIMIT_EXCEEDED" || errs[0].Extensions["limit"] != "max-subscriptions-per-connection" {
		t.Errorf("a second subscription: %+v", errs)
	}
	c.subscribe("deep", `subscription { taskReportChanged { taskReport { run { workflow { id } } } } }`, nil)
	if m := c.next("deep"); !strings.Contains(string(m.Payload), "max-depth") {
		t.Errorf("a deep subscription: %s %s", m.Type, m.Payload)
	}
	if _, err := dialWS(t, srv.URL, nil, nil); err != nil {
		t.Fatalf("a second connection: %v", err)
	}
	var ce websocket.CloseError
	if _, err := dialWS(t, srv.URL, nil, nil); !errors.As(err, &ce) || ce.Code != 4429 {
		t.Errorf("a third connection of the same principal: %v, want close 4429", err)
	}

	resp, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(`{"query":"subscription { runChanged { cursor } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "BAD_USER_INPUT") || !strings.Contains(string(b), "WebSocket") {
		t.Errorf("a subscription over plain POST: %d %s", resp.StatusCode, b)
	}
}

// TestSubscriptionOverSSE: graphql-sse's distinct connections mode (a POST with Accept:
// text/event-stream) streams the same events, authenticated by the Authorization header.
func TestSubscriptionOverSSE(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	dir := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
	if _, err := msgraph.ImportDir(tenant.WithTenant(context.Background(), tenantA), store, dir); err != nil {
		t.Fatal(err)
	}
	srv, iss := liveAuthServer(t, store, time.Minute)
	post := func(token string) *http.Response {
		body, _ := json.Marshal(map[string]any{"query": reportSub, "variables": map[string]any{"wf": docsWorkflow}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("SSE without a token: HTTP %d", resp.StatusCode)
	}
	resp := post(bearer(t, iss, tenantA)["Authorization"].(string))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	waitSubscribed(t, srv.URL, 1, bearer(t, iss, tenantA)["Authorization"].(string))
	touchReports(t, dir, 40, docsReportB)
	if _, err := msgraph.ImportDir(tenant.WithTenant(context.Background(), tenantA), store, dir); err != nil {
		t.Fatal(err)
	}
	events := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok && event == "next" {
				events <- v
				return
			}
		}
	}()
	select {
	case data := <-events:
		var ev struct{ Data reportEvent }
		if err := json.Unmarshal([]byte(data), &ev); err != nil || ev.Data.TaskReportChanged.TaskReport.ID != docsReportB ||
			ev.Data.TaskReportChanged.TaskReport.Task.DisplayName == "" {
			t.Fatalf("SSE event: %s", data)
		}
	case <-time.After(waitFor):
		t.Fatal("no SSE event")
	}
}

// TestSubscriptionSurvivesPostgresRestart: when PostgreSQL restarts, the broker LISTENs again
// (with backoff) and the subscription goes on with the changes written after the restart.
func TestSubscriptionSurvivesPostgresRestart(t *testing.T) {
	pg := dbtest.StartPostgres(t)
	store := dbtest.Open(t, pg.DSN)
	dir := importedCopy(t, store)
	srv := liveServer(t, store)
	c := mustDial(t, srv.URL, nil)
	c.subscribe("1", reportSub, nil)
	waitSubscribed(t, srv.URL, 1)
	listening := func() bool {
		var n int
		conn, err := pgx.Connect(context.Background(), pg.DSN)
		if err != nil {
			return false
		}
		defer conn.Close(context.Background())
		err = conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN `+db.FeedNotifyChannel+`'`).Scan(&n)
		return err == nil && n == 1
	}
	waitUntil(t, "the broker LISTENs", listening)
	pg.Stop()
	pg.Start()
	waitUntil(t, "the broker LISTENs again after the restart", listening)
	touchReports(t, dir, 50, docsReportA)
	importDir(t, store, dir)
	if got, _ := reportID(c, "1"); got != docsReportA {
		t.Fatalf("after the restart: %s, want report A", got)
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}
