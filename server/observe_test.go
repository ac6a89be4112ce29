package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/server"
)

// logLines decodes JSON log lines (the handler runs on the test's goroutine: no lock needed).
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestLogAndMetrics: each request gets an id (X-Request-Id, the same in its log line), one
// log line with its operation and error codes, and its latency under its route and status and
// under its operation; operation names beyond the bound count as "other". The metrics are kept
// per label by the server, so this test holds their names and meaning.
func TestRequestLogAndMetrics(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		var logs bytes.Buffer
		h := server.New(store, slog.New(slog.NewJSONHandler(&logs, nil)), nil)

		ids := map[string]bool{}
		for range 3 {
			rec := graphtest.Send(t, h, `query Lookup { workflows(first: 1) { nodes { id } } }`, nil)
			id := rec.Header().Get("X-Request-Id")
			if rec.Code != http.StatusOK || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || ids[id] {
				t.Fatalf("status %d, X-Request-Id %q (seen before: %v)", rec.Code, id, ids[id])
			}
			ids[id] = true
		}
		bad := graphtest.Send(t, h, `query Broken { workflows(first: 1) { nope } }`, nil)
		lines := logLines(t, &logs)
		if len(lines) != 4 {
			t.Fatalf("%d log lines, want 4: %v", len(lines), lines)
		}
		for i, l := range lines[:3] {
			if l["msg"] != "request" || l["operation"] != "Lookup" || l["status"] != 200.0 || l["path"] != "/graphql" ||
				l["method"] != "POST" || !ids[l["request_id"].(string)] || l["error_codes"] != nil {
				t.Errorf("log line %d: %v", i, l)
			}
		}
		if l := lines[3]; l["request_id"] != bad.Header().Get("X-Request-Id") ||
			fmt.Sprint(l["error_codes"]) != "[GRAPHQL_VALIDATION_FAILED]" {
			t.Errorf("log line of the refused request: %v", l)
		}

		for i := range 205 { // 200 names are kept; the others are "other"
			graphtest.Send(t, h, fmt.Sprintf(`query Name%d { workflows(first: 1) { nodes { id } } }`, i), nil)
		}
		metrics := scrape(t, h)
		for _, want := range []string{
			`lcw_http_request_duration_seconds_count{route="/graphql",status="200"} 209`,
			`lcw_graphql_operation_duration_seconds_count{operation="Lookup"} 3`,
			`lcw_graphql_operation_duration_seconds_count{operation="Name0"} 1`,
			`lcw_graphql_operation_duration_seconds_count{operation="other"} 6`,
			`lcw_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		} {
			if !strings.Contains(metrics, want+"\n") {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(metrics, `operation="Name199"`) {
			t.Error("an operation name beyond the bound has a label of its own")
		}
	})
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}
