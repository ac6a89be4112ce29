package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/errcode"
	"lcw-gateway/graph"
)

// seededStore is a real SQLite file with a little demo data.
func seededStore(t testing.TB) *db.Store {
	t.Helper()
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	opts := demo.Options{Workflows: 2, RunsPerWorkflow: 2, Users: 8, Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Seed: 1}
	if _, err := demo.Seed(context.Background(), store, opts, nil); err != nil {
		t.Fatal(err)
	}
	return store
}

// reply is one HTTP answer of the endpoint, decoded.
type reply struct {
	status int
	header http.Header
	raw    string
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r reply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// request is one HTTP request to /graphql.
type request struct {
	method, contentType, accept string
	body                        []byte
	unknownLength               bool // chunked: no Content-Length, so only reading finds the size
}

func postJSON(query string, vars map[string]any) request {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return request{method: http.MethodPost, contentType: "application/json", body: b}
}

func send(t testing.TB, h http.Handler, req request) reply {
	t.Helper()
	r := httptest.NewRequest(req.method, "/graphql", bytes.NewReader(req.body))
	if req.unknownLength {
		r.ContentLength = -1
		r.Body = io.NopCloser(bytes.NewReader(req.body))
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	if req.accept != "" {
		r.Header.Set("Accept", req.accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	out := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("status %d, the body is not JSON: %v\n%.500s", rec.Code, err, rec.Body.String())
	}
	return out
}

// leak matches what must never reach a client: SQL, driver words, Go stacks and file names.
var leak = regexp.MustCompile(`(?i)\bselect\b|\bfrom\b.*\bwhere\b|sqlite|pgx|gorm|goroutine|panic|\.go:\d+|runtime\.`)

// checkSafe asserts the properties every answer has: no 5xx, JSON, a code on every error, no leak.
func checkSafe(t testing.TB, r reply) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("status %d: %.500s", r.status, r.raw)
	}
	for _, e := range r.Errors {
		if c, _ := e.Extensions["code"].(string); c == "" {
			t.Errorf("an error without extensions.code: %q", e.Message)
		}
	}
	if m := leak.FindString(r.raw); m != "" {
		t.Errorf("the answer shows %q: %.500s", m, r.raw)
	}
}

const goodQuery = `{ workflows(first: 2) { nodes { id displayName } } }`

// checkGood asserts that the handler still answers a plain query fully.
func checkGood(t testing.TB, h http.Handler) {
	t.Helper()
	r := send(t, h, postJSON(goodQuery, nil))
	var data struct {
		Workflows struct{ Nodes []struct{ ID string } }
	}
	if err := json.Unmarshal(r.Data, &data); r.status != http.StatusOK || len(r.Errors) > 0 || err != nil || len(data.Workflows.Nodes) != 2 {
		t.Fatalf("the next good request failed: status %d: %.500s", r.status, r.raw)
	}
}

// testHooks are field middleware that only tests install: a resolver that panics and one that
// keeps the database busy until its context ends, chosen by the operation's name.
func testHooks(store *db.Store) graphql.HandlerExtension {
	return handler.FieldFunc(func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc.Field.Name != "workflows" {
			return next(ctx)
		}
		switch graphql.GetOperationContext(ctx).Operation.Name {
		case "Boom":
			panic("boom: a resolver bug at resolver.go:42")
		case "Slow":
			// A statement that never ends by itself: only cancelling its context stops it.
			sqlDB, err := store.SQL()
			if err != nil {
				return nil, err
			}
			var n int64
			err = sqlDB.QueryRowContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`).Scan(&n)
			return nil, err
		case "SQLError":
			return nil, fmt.Errorf("db: SELECT secret FROM tenants WHERE id = 'x': near \"FORM\": syntax error")
		}
		return next(ctx)
	})
}

// nested is a query levels deep: workflows, nodes, then runs, nodes, workflow again and again.
func nested(levels int) string {
	path := []string{"workflows(first: 1)", "nodes"}
	for i := 0; len(path) < levels-1; i++ {
		path = append(path, []string{"runs(first: 1)", "nodes", "workflow"}[i%3])
	}
	return "{ " + strings.Join(path, " { ") + " { id" + strings.Repeat(" }", len(path)) + " }"
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{ workflows(first: 1) { nodes { ")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: id ", i)
	}
	b.WriteString("} } }")
	return b.String()
}

func TestBadInputsThroughTheHandler(t *testing.T) {
	store := seededStore(t)
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	bigBody := append(append([]byte(`{"query": "{ __typename }", "pad": "`), bytes.Repeat([]byte("x"), 3<<20)...), '"', '}')
	const graphqlResponse = "application/graphql-response+json"

	tests := []struct {
		name    string
		policy  func(*Policy)
		req     request
		status  int
		code    string
		limit   string // extensions.limit, when the code is LIMIT_EXCEEDED
		message string // a part of the first error's message
		slow    bool   // may take the request timeout
	}{
		{name: "malformed JSON", req: request{method: "POST", contentType: "application/json", body: []byte(`{"query": "{ __typename `)},
			status: 400, code: errcode.BadUserInput, message: "not valid JSON"},
		{name: "a JSON array", req: request{method: "POST", contentType: "application/json", body: []byte(`[{"query": "{ __typename }"}]`)},
			status: 400, code: errcode.BadUserInput, message: "JSON object"},
		{name: "query of the wrong type", req: request{method: "POST", contentType: "application/json", body: []byte(`{"query": 1}`)},
			status: 400, code: errcode.BadUserInput, message: "query must be a string"},
		{name: "3 MiB body", req: request{method: "POST", contentType: "application/json", body: bigBody},
			status: 413, code: errcode.LimitExceeded, limit: limitBody},
		{name: "3 MiB body without Content-Length", req: request{method: "POST", contentType: "application/json", body: bigBody, unknownLength: true},
			status: 413, code: errcode.LimitExceeded, limit: limitBody},
		{name: "12-level deep query", req: postJSON(nested(12), nil),
			status: 200, code: errcode.LimitExceeded, limit: limitDepth},
		{name: "12-level deep query, graphql-response+json", req: func() request { r := postJSON(nested(12), nil); r.accept = graphqlResponse; return r }(),
			status: 400, code: errcode.LimitExceeded, limit: limitDepth},
		{name: "cost bomb", req: postJSON(`{ workflows(first: 500) { nodes { runs(first: 500) { nodes { id taskReports(first: 500) { nodes { id } } } } } } }`, nil),
			status: 200, code: errcode.LimitExceeded, limit: limitCost},
		{name: "cost bomb through variables and fragments", req: postJSON(`query($n: Int) { workflows(first: $n) { ...W } }
			fragment W on WorkflowConnection { nodes { runs(first: $n) { nodes { id status: processingStatus } } } }`, map[string]any{"n": 500}),
			status: 200, code: errcode.LimitExceeded, limit: limitCost},
		{name: "500 aliases", req: postJSON(aliases(500), nil),
			status: 200, code: errcode.LimitExceeded, limit: limitAliases},
		{name: "11 root fields", req: postJSON(`{ a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename
			g: __typename h: __typename i: __typename j: __typename k: __typename }`, nil),
			status: 200, code: errcode.LimitExceeded, limit: limitRootFields},
		{name: "6000 tokens", req: postJSON("{ workflows { nodes { "+strings.Repeat("id ", 6000)+"} } }", nil),
			status: 200, code: errcode.LimitExceeded, limit: limitTokens},
		{name: "first: 100000", req: postJSON(`{ workflows(first: 100000) { nodes { id } } }`, nil),
			status: 200, code: errcode.BadUserInput, message: "at most 500"},
		{name: "garbage cursor", req: postJSON(`{ workflows(first: 2, after: "not a cursor!") { nodes { id } } }`, nil),
			status: 200, code: errcode.BadUserInput, message: "not a cursor"},
		{name: "garbage cursor of a nested connection", req: postJSON(`{ workflows(first: 1) { nodes { runs(after: "eyJvIjoieCJ9") { nodes { id } } } } }`, nil),
			status: 200, code: errcode.BadUserInput, message: "not a cursor"},
		{name: `"yesterday" as a DateTime`, req: postJSON(`query($s: DateTime!, $e: DateTime!) {
			taskReportSummary(workflowId: "00000000-0000-0000-0000-000000000000", startDateTime: $s, endDateTime: $e) { totalTasks } }`,
			map[string]any{"s": "yesterday", "e": "2025-01-01T00:00:00Z"}),
			status: 200, code: errcode.BadUserInput, message: "RFC 3339"},
		{name: "an enum value that does not exist, in a variable", req: postJSON(`query($s: LifecycleWorkflowProcessingStatus!) {
			taskReports(where: {processingStatus: {eq: $s}}) { nodes { id } } }`, map[string]any{"s": "Completed"}),
			status: 200, code: errcode.BadUserInput, message: "processingStatus"},
		{name: "a missing required variable", req: postJSON(`query($id: ID!) { workflow(id: $id) { id } }`, nil),
			status: 200, code: errcode.BadUserInput},
		{name: "text/plain POST", req: request{method: "POST", contentType: "text/plain", body: []byte(`{"query": "{ __typename }"}`)},
			status: 415, code: errcode.BadUserInput},
		{name: "form POST", req: request{method: "POST", contentType: "application/x-www-form-urlencoded", body: []byte(`query=%7B__typename%7D`)},
			status: 415, code: errcode.BadUserInput},
		{name: "multipart POST", req: request{method: "POST", contentType: "multipart/form-data; boundary=x", body: []byte("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\"}\r\n--x--\r\n")},
			status: 415, code: errcode.BadUserInput},
		{name: "JSON in another charset", req: request{method: "POST", contentType: "application/json; charset=utf-16", body: []byte(`{"query": "{ __typename }"}`)},
			status: 415, code: errcode.BadUserInput},
		{name: "PUT", req: request{method: "PUT", contentType: "application/json", body: []byte(`{"query": "{ __typename }"}`)},
			status: 405, code: errcode.BadUserInput},
		{name: "an Accept we cannot serve", req: func() request { r := postJSON(goodQuery, nil); r.accept = "text/html"; return r }(),
			status: 406, code: errcode.BadUserInput},
		{name: "parse error", req: postJSON(`{ workflows {`, nil),
			status: 200, code: errcode.ParseFailed},
		{name: "parse error, graphql-response+json", req: func() request { r := postJSON(`{ workflows {`, nil); r.accept = graphqlResponse; return r }(),
			status: 400, code: errcode.ParseFailed},
		{name: "validation error with a suggestion", req: postJSON(`{ workflowz { nodes { id } } }`, nil),
			status: 200, code: errcode.ValidationFailed, message: "Did you mean"},
		{name: "no suggestions in production", policy: func(p *Policy) { p.Production = true }, req: postJSON(`{ workflowz(frist: 1) { nodes { id } } }`, nil),
			status: 200, code: errcode.ValidationFailed},
		{name: "introspection off", policy: func(p *Policy) { p.Introspection = Off }, req: postJSON(`{ __schema { types { name } } }`, nil),
			status: 200, code: errcode.ValidationFailed, message: "introspection has been disabled"},
		{name: "a panic inside a resolver", req: postJSON(`query Boom { workflows { nodes { id } } }`, nil),
			status: 200, code: errcode.Internal, message: "internal error (request id "},
		{name: "an error with SQL in it", req: postJSON(`query SQLError { workflows { nodes { id } } }`, nil),
			status: 200, code: errcode.Internal, message: "internal error (request id "},
		{name: "a request that outlives its timeout", policy: func(p *Policy) { p.RequestTimeout = 300 * time.Millisecond },
			req: postJSON(`query Slow { workflows { nodes { id } } }`, nil), status: 200, code: errcode.LimitExceeded, limit: limitTimeout, slow: true},
		{name: "a time limit spent before execution", policy: func(p *Policy) { p.RequestTimeout = time.Nanosecond },
			req: postJSON(goodQuery, nil), status: 200, code: errcode.LimitExceeded, limit: limitTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			h := newHandler(store, logger, Options{Policy: &p}, testHooks(store))
			start := time.Now()
			r := send(t, h, tc.req)
			if tc.slow && time.Since(start) > p.RequestTimeout+5*time.Second {
				t.Errorf("the request took %s with a %s time limit", time.Since(start), p.RequestTimeout)
			}
			checkSafe(t, r)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("status %d, code %q; want %d, %q\n%.800s", r.status, r.code(), tc.status, tc.code, r.raw)
			}
			if tc.limit != "" && r.Errors[0].Extensions["limit"] != tc.limit {
				t.Errorf("extensions.limit = %v, want %s", r.Errors[0].Extensions["limit"], tc.limit)
			}
			if tc.message != "" && !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("message %q does not say %q", r.Errors[0].Message, tc.message)
			}
			if tc.code == errcode.Internal {
				id := r.header.Get("X-Request-Id")
				if id == "" || !strings.Contains(r.Errors[0].Message, id) || !strings.Contains(logs.String(), id) {
					t.Errorf("request id %q: not in the message %q or not in the log", id, r.Errors[0].Message)
				}
			}
			if p.Production && strings.Contains(r.raw, "Did you mean") {
				t.Errorf("a suggestion in production: %s", r.raw)
			}
			if tc.status >= 400 && bytes.Contains([]byte(r.raw), []byte(`"data"`)) {
				t.Errorf("a request error with a data entry: %.300s", r.raw)
			}
			if p.RequestTimeout > time.Millisecond {
				checkGood(t, h)
			}
		})
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack are not in the log:\n%.2000s", logs.String())
	}
}

func get(h http.Handler, q string) reply {
	return getURL(h, "/graphql?"+url.Values{"query": {q}}.Encode())
}

func getURL(h http.Handler, target string) reply {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	out := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

// GET runs queries (the spec lets a server run them over GET) and never a mutation: a cross-site
// GET must change nothing. POST reaches the mutation, which without an actions service refuses.
func TestGETRunsQueriesOnly(t *testing.T) {
	h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{})
	if r := get(h, goodQuery); r.status != 200 || len(r.Errors) > 0 {
		t.Fatalf("GET query: %d %s", r.status, r.raw)
	}
	const mutation = `mutation { cancelRun(runId: "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d") { id } }`
	r := get(h, mutation)
	checkSafe(t, r)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" || r.code() != errcode.BadUserInput {
		t.Errorf("GET mutation: %d, Allow %q: %s", r.status, r.header.Get("Allow"), r.raw)
	}
	if r := send(t, h, postJSON(mutation, nil)); r.status != 200 || r.code() != errcode.Forbidden || !strings.Contains(r.raw, "--actions") {
		t.Errorf("POST mutation: %d %s", r.status, r.raw)
	}
}

// The cost of a query is what the flag's help says: each field 1, a list its page size times
// its selection, introspection flat.
func TestMeasure(t *testing.T) {
	tests := []struct {
		query                       string
		depth, aliases, roots, cost int
	}{
		{`{ __typename }`, 1, 0, 1, 1},
		{`{ workflows { nodes { id } } }`, 3, 0, 1, 1 + 50*(1+1)},
		{`{ workflows(first: 3) { totalCount nodes { id displayName } } }`, 3, 0, 1, 1 + 3*(1+1+2)},
		{`{ workflows(first: 100000) { nodes { id } } }`, 3, 0, 1, 1 + 500*2},
		{`{ workflows(first: 2) { nodes { tasks { id } } } }`, 4, 0, 1, 1 + 2*(1+(1+50*1))},
		{`{ a: workflows(first: 2) { nodes { b: id } } c: __typename }`, 3, 3, 2, 1 + 2*2 + 1},
		{`{ __schema { types { name fields { name type { ofType { name } } } } } }`, 1, 0, 1, 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1},
		{`query { ...Q ...Q } fragment Q on Query { workflows(first: 2) { nodes { id } } }`, 3, 0, 2, 2 * (1 + 2*2)},
	}
	schema := graph.ClientSafeSchema()
	for _, tc := range tests {
		doc, errs := loadQuery(schema, tc.query)
		if errs != nil {
			t.Fatalf("%s: %v", tc.query, errs)
		}
		s := measureOperation(doc.Operations[0], nil)
		if s.depth != tc.depth || s.aliases != tc.aliases || s.rootFields != tc.roots || s.cost != float64(tc.cost) {
			t.Errorf("%s: depth %d, aliases %d, roots %d, cost %v; want %d, %d, %d, %d",
				tc.query, s.depth, s.aliases, s.rootFields, s.cost, tc.depth, tc.aliases, tc.roots, tc.cost)
		}
	}
}

// A fragment spread twice in each of 60 nested fragments expands to 2^60 fields; measuring it
// must still take no time (each fragment is measured once).
func TestMeasureDoesNotExpandFragments(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	b.WriteString("fragment F60 on Query { __typename }\n")
	doc, errs := loadQuery(graph.ClientSafeSchema(), b.String())
	if errs != nil {
		t.Fatal(errs)
	}
	start := time.Now()
	s := measureOperation(doc.Operations[0], nil)
	if time.Since(start) > time.Second || s.rootFields < 1<<50 {
		t.Errorf("took %s, %d root fields", time.Since(start), s.rootFields)
	}
}

// The default limits admit the documented dashboards: the README's examples and the operations
// the codegen and client checks send (examples/operations).
func TestDefaultLimitsAdmitTheExampleOperations(t *testing.T) {
	files, _ := filepath.Glob("../examples/operations/*.graphql")
	if len(files) == 0 {
		t.Skip("no examples/operations")
	}
	p := DefaultPolicy()
	limits := operationLimits{maxDepth: p.MaxDepth, maxAliases: p.MaxAliases, maxRootFields: p.MaxRootFields, maxCost: p.MaxCost,
		maxFields: p.MaxFields, maxDirectives: p.MaxDirectives}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseQueryWithTokenLimit(sourceOf(string(src)), p.MaxTokens)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, op := range parsed.Operations {
			if err := limits.checkDocument(parsed, op.Name); err != nil {
				t.Errorf("%s %s before validation: %v", f, op.Name, err)
			}
		}
		doc, errs := loadQuery(graph.ClientSafeSchema(), string(src))
		if errs != nil {
			t.Fatalf("%s: %v", f, errs)
		}
		for _, op := range doc.Operations {
			s := measureOperation(op, nil)
			t.Logf("%s %s: depth %d, aliases %d, root fields %d, fields %d, cost %.0f", filepath.Base(f), op.Name, s.depth, s.aliases, s.rootFields, s.fields, s.cost)
			if err := limits.MutateOperationContext(context.Background(), &graphql.OperationContext{Operation: op}); err != nil {
				t.Errorf("%s %s: %v", f, op.Name, err)
			}
		}
	}
}

func loadQuery(s *ast.Schema, q string) (*ast.QueryDocument, gqlerror.List) {
	return gqlparser.LoadQuery(s, q)
}

func sourceOf(q string) *ast.Source { return &ast.Source{Input: q} }
