package endpoint

import (
	"bytes"
	"encoding/json"
	"lcw-gateway/errcode"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what a client controls: the request itself, cursors, and page, order and
// filter arguments. Properties, whatever the input: no panic, no 5xx, a JSON answer whose every
// error has a code, and nothing of the database or the Go runtime in it. .ci/fuzz.sh runs each
// briefly; the seed corpora are in testdata/fuzz.

// internals are words of a database error or a Go stack. A client may echo a word back (an
// unknown field named "select"), so only words missing from the input count.
var internals = regexp.MustCompile(`(?i)\bselect\b|\binsert\b|sqlite|pgx|gorm|SQL logic error|no such (column|table)|syntax error at|goroutine|runtime\.|\.go:\d+`)

func checkFuzzAnswer(t *testing.T, input []byte, rec *httptest.ResponseRecorder, allowed ...string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %.500s", rec.Code, input, rec.Body.String())
	}
	var resp struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("not JSON for %q: %v: %.500s", input, err, rec.Body.String())
	}
	for _, m := range internals.FindAllString(rec.Body.String(), -1) {
		if !bytes.Contains(bytes.ToLower(input), bytes.ToLower([]byte(m))) {
			t.Fatalf("the answer shows %q for %q: %.500s", m, input, rec.Body.String())
		}
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" {
			t.Fatalf("an error without a code for %q: %q", input, e.Message)
		}
		if code == errcode.Internal {
			t.Fatalf("INTERNAL for %q (a bug: the log has it): %q", input, e.Message)
		}
		if len(allowed) > 0 && !contains(allowed, code) {
			t.Fatalf("code %s for %q: %q", code, input, e.Message)
		}
	}
}

// serve runs one request, and fails when it hangs: a request that never returns would otherwise
// stall the fuzzer without telling which input did it. The limit is well past the request's own
// time limit (10s), which ends the database work.
func serve(t *testing.T, h http.Handler, r *http.Request, input []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, r)
	}()
	select {
	case <-done:
		return rec
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("no answer in 30s for %q; goroutines:\n%s", input, buf[:runtime.Stack(buf, true)])
		return nil
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FuzzRequest sends arbitrary bytes as a JSON POST body, or as the URL query of a GET.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ workflows(first: 2) { nodes { id runs { nodes { id } } } } }"}`,
		`{"query":"query Q($id: ID!) { workflow(id: $id) { id } }","variables":{"id":"x"},"operationName":"Q"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query": "{`, `[]`, `null`, `{"query": 1}`, `{"query":"{ __typename }","variables":"x"}`,
		`{"documentId":"sha256:00"}`, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":"{ a: __typename b: __typename }"} trailing`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte(`query=%7B+workflows+%7B+nodes+%7B+id+%7D+%7D+%7D`), true)
	f.Add([]byte(`query=mutation+%7B+x+%7D`), true)
	f.Add([]byte(`query=%7B__typename%7D&variables=%7B`), true)
	f.Add([]byte(`%zz`), true)

	store := seededStore(f)
	h := NewHandler(store, slog.New(slog.DiscardHandler), Options{})
	f.Fuzz(func(t *testing.T, input []byte, asGET bool) {
		var r *http.Request
		if asGET {
			r = httptest.NewRequest(http.MethodGet, "/graphql", nil)
			r.URL.RawQuery = string(input)
		} else {
			r = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(input))
			r.Header.Set("Content-Type", "application/json")
		}
		checkFuzzAnswer(t, input, serve(t, h, r, input))
	})
}

// FuzzCursor pages with arbitrary after/before cursors, top-level and nested, in two orders.
func FuzzCursor(f *testing.F) {
	for _, seed := range []string{"", "not a cursor", "eyJvIjoieCIsInYiOltdfQ", "eyJvIjoid29ya2Zsb3dzKGlkOmFzYykiLCJ2IjpbIngiXX0",
		"eyJvIjoid29ya2Zsb3dzKGRpc3BsYXlfbmFtZTpkZXNjLGlkOmRlc2MpIiwidiI6W251bGwsMV19", "////", "AAAA", strings.Repeat("A", 5000)} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(3))
	}
	queries := []string{
		`query($c: String) { workflows(first: 2, after: $c) { nodes { id } pageInfo { endCursor } } }`,
		`query($c: String) { workflows(last: 2, before: $c, orderBy: [{field: displayName, direction: desc}]) { nodes { id } } }`,
		`query($c: String) { workflows(first: 1) { nodes { runs(first: 2, after: $c) { nodes { id } } } } }`,
		`query($c: String) { taskReports(first: 2, after: $c, orderBy: [{field: startedDateTime}]) { nodes { id } } }`,
		`query($c: String) { taskDefinitions(last: 2, before: $c) { nodes { id } } }`,
	}
	store := seededStore(f)
	h := NewHandler(store, slog.New(slog.DiscardHandler), Options{})
	f.Fuzz(func(t *testing.T, cursor string, which uint8) {
		b, _ := json.Marshal(map[string]any{"query": queries[int(which)%len(queries)], "variables": map[string]any{"c": cursor}})
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		checkFuzzAnswer(t, []byte(cursor), serve(t, h, r, []byte(cursor)), errcode.BadUserInput)
	})
}

// FuzzPageArgs sends arbitrary first/last, an orderBy and a where filter (as JSON) to a
// connection. The filter arrives as a variable, so every shape of input object reaches the
// filter compiler, not only those a literal would parse to.
func FuzzPageArgs(f *testing.F) {
	f.Add(int64(2), int64(-1), "startedDateTime", true, []byte(`{"processingStatus":{"in":["failed","completed"]}}`))
	f.Add(int64(-1), int64(3), "id", false, []byte(`{"or":[{"totalUsersCount":{"gt":1}},{"not":{"failedUsersCount":{"eq":0}}}]}`))
	f.Add(int64(100000), int64(-1), "nope", false, []byte(`{"and":[{"and":[{"and":[{"and":[{"and":[{"and":[{}]}]}]}]}]}]}`))
	f.Add(int64(0), int64(0), "failedUsersCount", true, []byte(`{"startedDateTime":{"ge":"yesterday"}}`))
	f.Add(int64(-5), int64(-1), "completedDateTime", false, []byte(`{"runId":{"eq":"' OR 1=1 --"}}`))
	f.Add(int64(2147483648), int64(-1), "id", false, []byte(`{"taskDefinitionCategory":{"has":"joiner"}}`))
	f.Add(int64(1), int64(-1), "id", false, []byte(`"not an object"`))
	store := seededStore(f)
	h := NewHandler(store, slog.New(slog.DiscardHandler), Options{})
	const query = `query($first: Int, $last: Int, $orderBy: [TaskReportOrder!], $where: TaskReportWhere) {
		taskReports(first: $first, last: $last, orderBy: $orderBy, where: $where) { totalCount nodes { id } pageInfo { endCursor } } }`
	f.Fuzz(func(t *testing.T, first, last int64, field string, desc bool, where []byte) {
		vars := map[string]any{}
		if first != -1 {
			vars["first"] = first
		}
		if last != -1 {
			vars["last"] = last
		}
		dir := "asc"
		if desc {
			dir = "desc"
		}
		vars["orderBy"] = []any{map[string]any{"field": field, "direction": dir}}
		var w any
		if json.Unmarshal(where, &w) == nil {
			vars["where"] = w
		}
		b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		checkFuzzAnswer(t, b, serve(t, h, r, b), errcode.BadUserInput, errcode.LimitExceeded)
	})
}
