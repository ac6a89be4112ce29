// Package graphtest sends GraphQL requests to a real handler in tests and decodes the answers.
package graphtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Response is a GraphQL response with its HTTP status.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Send posts query with variables as application/json to the handler's /graphql and returns
// the response as recorded.
func Send(t testing.TB, h http.Handler, query string, vars map[string]any) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Post sends query with variables as application/json to the handler's /graphql.
func Post(t testing.TB, h http.Handler, query string, vars map[string]any) Response {
	t.Helper()
	rec := Send(t, h, query, vars)
	var resp Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("status %d, body is not JSON: %v\n%s", rec.Code, err, rec.Body.String())
	}
	resp.Status = rec.Code
	return resp
}

// MustData posts and fails the test on any GraphQL error, then decodes data into out.
func MustData(t testing.TB, h http.Handler, query string, vars map[string]any, out any) {
	t.Helper()
	resp := Post(t, h, query, vars)
	if len(resp.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v\nquery: %s", resp.Errors, query)
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		t.Fatalf("decode data: %v\n%s", err, resp.Data)
	}
}

// PostURL sends query with variables as application/json to a running server's /graphql over
// the network; safe to call from several goroutines (a failure is reported, not fatal).
func PostURL(t testing.TB, client *http.Client, base, query string, vars map[string]any) Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Error(err)
		return Response{}
	}
	res, err := client.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Errorf("POST %s/graphql: %v", base, err)
		return Response{}
	}
	defer res.Body.Close()
	var resp Response
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		t.Errorf("status %d, body is not JSON: %v", res.StatusCode, err)
	}
	resp.Status = res.StatusCode
	return resp
}
