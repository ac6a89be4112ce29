package integration_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/server"
)

// Every page the server writes carries the browser-facing security headers: GraphiQL with its
// own strict policy, and the API, probes and error pages with one that lets nothing load or run.
func TestSecurityHeadersOnEveryPage(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	srv := httptest.NewServer(server.New(store, slog.New(slog.DiscardHandler), nil))
	defer srv.Close()
	for _, c := range []struct {
		method, path, body string
		status             int
		page               bool
	}{
		{"GET", "/", "", 200, true},
		{"GET", "/nowhere", "", 404, false},
		{"GET", "/assets/nothing.js", "", 404, false},
		{"DELETE", "/healthz", "", 405, false},
		{"GET", "/healthz", "", 200, false},
		{"POST", "/graphql", `{"query":"{ workflows { totalCount } }"}`, 200, false},
		{"POST", "/graphql", `{"query":"{"}`, 400, false},
		{"GET", "/graphql", "", 400, false},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/graphql-response+json") // a bad document is then a 400
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		where := c.method + " " + c.path
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", where, res.StatusCode, c.status)
		}
		for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s: %s is %q, want %q", where, header, got, want)
			}
		}
		policy := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(policy, "frame-ancestors 'none'") || !strings.HasPrefix(policy, "default-src 'none'") {
			t.Errorf("%s: policy %q", where, policy)
		}
		if got := strings.Contains(policy, "script-src 'self'"); got != c.page {
			t.Errorf("%s: policy %q lets scripts run: %v, want %v", where, policy, got, c.page)
		}
	}
}
