package integration_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/server"
)

// TestTracesReachTheOTLPEndpoint: with an endpoint configured, a GraphQL request's spans are
// exported over OTLP/HTTP (a collector double counts the export requests).
func TestTracesReachTheOTLPEndpoint(t *testing.T) {
	var exports atomic.Int32
	var body atomic.Value
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			b, _ := io.ReadAll(r.Body)
			body.Store(string(b))
			exports.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	tp, flush, err := server.TracerProvider(context.Background(), collector.URL)
	if err != nil {
		t.Fatal(err)
	}
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	h := server.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, server.WithTracer(tp))
	var out map[string]any
	graphtest.MustData(t, h, `query Traced { workflows { totalCount } }`, nil, &out)
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exports.Load() == 0 {
		t.Fatal("no spans were exported")
	}
	// The protobuf payload carries span names as plain strings.
	if b, _ := body.Load().(string); !strings.Contains(b, "graphql Traced") || !strings.Contains(b, "lcw-gateway") {
		t.Errorf("the export lacks the operation span or the service name")
	}
}
