package integration_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/endpoint"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/server"
)

// The serve flags reach the mux: GraphiQL and introspection follow their switches and
// --production; CORS wraps /graphql, outside the auth guard, with the allow-list.
func TestServeFlagsReachTheMux(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	logger := slog.New(slog.DiscardHandler)
	status := func(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	introspects := func(h http.Handler) bool {
		return len(graphtest.Post(t, h, `{ __schema { queryType { name } } }`, nil).Errors) == 0
	}
	policy := func(change func(*endpoint.Policy)) server.Option {
		p := endpoint.DefaultPolicy()
		change(&p)
		return server.WithPolicy(p)
	}

	tests := []struct {
		name                    string
		opts                    []server.Option
		graphiql, introspection bool
	}{
		{"defaults", nil, true, true},
		{"--graphiql=false", []server.Option{policy(func(p *endpoint.Policy) { p.GraphiQL = endpoint.Off })}, false, true},
		{"--introspection=false", []server.Option{policy(func(p *endpoint.Policy) { p.Introspection = endpoint.Off })}, true, false},
		{"--production", []server.Option{policy(func(p *endpoint.Policy) { p.Production = true })}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := server.New(store, logger, nil, tc.opts...)
			if got := status(h, http.MethodGet, "/").Code == http.StatusOK; got != tc.graphiql {
				t.Errorf("GraphiQL served: %v, want %v", got, tc.graphiql)
			}
			if got := introspects(h); got != tc.introspection {
				t.Errorf("introspection answered: %v, want %v", got, tc.introspection)
			}
		})
	}

	t.Run("--cors-origins", func(t *testing.T) {
		h := server.New(store, logger, nil, policy(func(p *endpoint.Policy) { p.CORSOrigins = []string{"https://app.example"} }))
		rec := status(h, http.MethodOptions, "/graphql", "Origin", "https://app.example",
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("preflight: %d %v", rec.Code, rec.Header())
		}
		rec = status(server.New(store, logger, nil), http.MethodOptions, "/graphql", "Origin", "https://app.example",
			"Access-Control-Request-Method", "POST")
		if rec.Header().Get("Access-Control-Allow-Origin") != "" || !strings.Contains(rec.Header().Get("Allow"), "POST") {
			t.Errorf("no allow-list, yet: %d %v", rec.Code, rec.Header())
		}
	})
}
