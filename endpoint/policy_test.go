package endpoint

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// parsePolicy reads a Policy from command-line arguments as serve does.
func parsePolicy(t *testing.T, args ...string) (Policy, error) {
	t.Helper()
	var c struct {
		Policy Policy `embed:""`
	}
	parser, err := kong.New(&c, kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = parser.Parse(args)
	return c.Policy, err
}

// clearPolicyEnv keeps the developer's own LCW_ settings out of these tests.
func clearPolicyEnv(t *testing.T) {
	rt := reflect.TypeFor[Policy]()
	for i := range rt.NumField() {
		if env := rt.Field(i).Tag.Get("env"); env != "" {
			t.Setenv(env, "") // restores the value after the test
			_ = os.Unsetenv(env)
		}
	}
}

func TestDefaultPolicyIsTheFlagsDefaults(t *testing.T) {
	clearPolicyEnv(t)
	p, err := parsePolicy(t)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, DefaultPolicy()) {
		t.Fatalf("flags' defaults %+v\nDefaultPolicy()  %+v", p, DefaultPolicy())
	}
}

func TestPolicyFlagsAndEnv(t *testing.T) {
	clearPolicyEnv(t)
	p, err := parsePolicy(t, "--max-body-bytes=512KiB", "--max-depth=7", "--graphql-timeout=2s",
		"--introspection=false", "--cors-origins=https://a.example,https://*.b.example")
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxBodyBytes != 512<<10 || p.MaxDepth != 7 || p.RequestTimeout != 2*time.Second || p.ServesIntrospection() ||
		!p.ServesGraphiQL() || len(p.CORSOrigins) != 2 {
		t.Fatalf("%+v", p)
	}
	t.Setenv("LCW_PRODUCTION", "true")
	t.Setenv("LCW_MAX_COST", "5000")
	p, err = parsePolicy(t)
	if err != nil {
		t.Fatal(err)
	}
	if p.ServesIntrospection() || p.ServesGraphiQL() || p.SuggestsFields() || p.MaxCost != 5000 {
		t.Fatalf("--production left something on: %+v", p)
	}
	if _, err := parsePolicy(t, "--graphiql=maybe"); err == nil {
		t.Error("--graphiql=maybe was taken")
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1048576": 1 << 20, "1MiB": 1 << 20, "512KiB": 512 << 10, "2 MiB": 2 << 20, "100B": 100, "0": 0} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || b != want {
			t.Errorf("%q: %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1MB", "lots", "99999999999GiB"} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q was taken as %d", in, b)
		}
	}
	if s := ByteSize(1 << 20).String(); s != "1MiB" {
		t.Errorf("1 MiB prints as %q", s)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, want string
	}{
		{"", mediaJSON},
		{"*/*", mediaJSON},
		{"application/*", mediaJSON},
		{"application/json", mediaJSON},
		{"application/graphql-response+json", mediaGraphQLResponse},
		{"application/graphql-response+json, application/json;q=0.9", mediaGraphQLResponse},                     // Apollo Client
		{"application/graphql-response+json, application/graphql+json, application/json", mediaGraphQLResponse}, // urql
		{"application/json;q=0.9, application/graphql-response+json;q=0.8", mediaJSON},
		{"text/html,application/xhtml+xml,*/*;q=0.8", mediaJSON}, // a browser's address bar
		{"*/*, application/graphql-response+json", mediaGraphQLResponse},
		{"text/html", ""},
		{"application/json;q=0", ""},
	}
	for _, tc := range tests {
		got, ok := negotiate(tc.accept)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Accept %q: %q, want %q", tc.accept, got, tc.want)
		}
	}
}

// CORS answers only the allow-listed origins, and nobody when the list is empty.
func TestCORS(t *testing.T) {
	h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{})
	preflight := func(p *Policy, origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key") // as browsers write it
		rec := httptest.NewRecorder()
		p.CORS(h).ServeHTTP(rec, r)
		return rec
	}
	allow := &Policy{CORSOrigins: []string{"https://app.example", "https://*.tenant.example"}}
	for origin, ok := range map[string]bool{"https://app.example": true, "https://x.tenant.example": true,
		"https://evil.example": false, "null": false, "https://app.example.evil": false} {
		rec := preflight(allow, origin)
		got := rec.Header().Get("Access-Control-Allow-Origin")
		if (got == origin) != ok || (ok && rec.Code != http.StatusNoContent) {
			t.Errorf("preflight from %s: status %d, Allow-Origin %q", origin, rec.Code, got)
		}
	}
	if rec := preflight(&Policy{}, "https://app.example"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no allow-list, yet Allow-Origin %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}

	// The actual request from an allowed origin can read the answer and its request id.
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", "https://app.example")
	rec := httptest.NewRecorder()
	allow.CORS(h).ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Errorf("status %d, headers %v", rec.Code, rec.Header())
	}
}
