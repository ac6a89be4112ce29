package endpoint

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
)

// passResponses is a response interceptor that changes nothing: with it installed the transport
// sends every query through gqlgen's dispatch (the compiled plan still runs, inside Exec).
type passResponses struct{}

func (passResponses) ExtensionName() string                   { return "PassResponses" }
func (passResponses) Validate(graphql.ExecutableSchema) error { return nil }
func (passResponses) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(ctx)
}

// The transport's direct answer of a planned query (graph.Direct) is byte for byte what
// gqlgen's dispatch answers: status, headers and body, errors and fallbacks included.
func TestDirectAnswersAsDispatch(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		seedPoolData(t, s)
		ctx := context.Background()
		if _, err := s.Write(ctx, db.Batch{Workflows: []db.Workflow{{ID: "html", DisplayName: `<b>"a" & 'b'</b> ` + "\u2028", Category: db.WorkflowLeaver}}}); err != nil {
			t.Fatal(err)
		}
		direct := NewHandler(s, slog.New(slog.DiscardHandler), Options{Metrics: prometheus.NewRegistry()})
		dispatched := newHandler(s, slog.New(slog.DiscardHandler), Options{Metrics: prometheus.NewRegistry()}, passResponses{})
		bodies := []string{
			`{"query":"query Q($id: ID!) { workflow(id: $id) { id displayName category } }","variables":{"id":"html"}}`,
			`{"query":"{ workflows(first: 3) { totalCount nodes { id displayName runs(first: 2) { nodes { id processingStatus } } } } }"}`,
			`{"query":"query Q($id: ID!) { workflow(id: $id) { id } }","variables":{"id":"missing"}}`, // NOT_FOUND: the plan gives up
			`{"query":"{ workflows(first: 2) { nodes { id } } __typename }","operationName":null}`,
			`{"query":"{ workflows(first: -1) { nodes { id } } }"}`,                           // a resolver's error
			`{"query":"query Q($id: ID!) { workflow(id: $id) { id } }","variables":{"id":5}}`, // bad variables: never executes
			`{"query":"{ workflows(first: 2) { nodes { id nope } } }"}`,                       // invalid
			`{"query":"{ __schema { queryType { name } } }"}`,                                 // no plan
			`{"query":"mutation { nothing }"}`,
		}
		for _, accept := range []string{"", mediaGraphQLResponse} {
			for _, body := range bodies {
				a, b := sendRaw(direct, accept, body), sendRaw(dispatched, accept, body)
				if a.Code != b.Code || !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
					t.Errorf("%s (Accept %q):\ndirect   %d %s\ndispatch %d %s", body, accept, a.Code, a.Body, b.Code, b.Body)
				}
				for _, h := range []http.Header{a.Header(), b.Header()} {
					h.Del("X-Request-Id")
				}
				if !equalHeaders(a.Header(), b.Header()) {
					t.Errorf("%s (Accept %q): headers\ndirect   %v\ndispatch %v", body, accept, a.Header(), b.Header())
				}
			}
		}
		// The answer to the first body is escaped as every response is (json.Marshal's HTML escaping).
		if got := sendRaw(direct, "", bodies[0]).Body.String(); !strings.Contains(got, `\u003cb\u003e\"a\" \u0026 'b'\u003c/b\u003e \u2028`) {
			t.Errorf("the direct answer is not escaped as before: %s", got)
		}
	})
}

func sendRaw(h http.Handler, accept, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// A query answered directly is still counted: the fast path's outcome once, the operation's
// latency under its name, the operation in the request's log fields.
func TestDirectAnswersAreObserved(t *testing.T) {
	s := dbtest.Open(t, dbtest.SQLiteDSN(t))
	seedPoolData(t, s)
	reg := prometheus.NewRegistry()
	h := NewHandler(s, slog.New(slog.DiscardHandler), Options{Metrics: reg})
	info := &RequestInfo{ID: "r1"}
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"query Named { workflows(first: 1) { nodes { id } } }"}`))
	r.Header.Set("Content-Type", "application/json")
	r = r.WithContext(WithRequestInfo(r.Context(), info))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "errors") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	// A plan that gives up (a resolver's error) is counted once, though gqlgen's dispatch then runs the query.
	if resp := sendRaw(h, "", `{"query":"query Missing { workflows(first: -1) { nodes { id } } }"}`); !strings.Contains(resp.Body.String(), `"errors"`) {
		t.Fatalf("a page of -1: %s", resp.Body)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "lcw_graphql_fast_path_total":
				found[mf.GetName()+" "+m.GetLabel()[0].GetValue()] = fmt.Sprint(m.GetCounter().GetValue())
			case "lcw_graphql_operation_duration_seconds":
				found[mf.GetName()+" "+m.GetLabel()[0].GetValue()] = fmt.Sprint(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]string{"lcw_graphql_fast_path_total served": "1", "lcw_graphql_fast_path_total gave_up": "1", "lcw_graphql_fast_path_total no_plan": "0",
		"lcw_graphql_operation_duration_seconds Named":   "1",
		"lcw_graphql_operation_duration_seconds Missing": "1"}
	if fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("metrics %v, want %v", found, want)
	}
	if attrs := info.AppendLogAttrs(nil); attrs[0].Value.String() != "Named" {
		t.Errorf("the log line's operation is %q, want Named", attrs[0].Value.String())
	}
}
