package msgraph

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error) { return string(f), nil }
func (fixedToken) Invalidate(string)                       {}

func TestClientURLsAndNextLinks(t *testing.T) {
	c, err := NewClient(ClientConfig{BaseURL: "https://graph.microsoft.com/v1.0/", Tokens: fixedToken("t")})
	if err != nil {
		t.Fatal(err)
	}
	// $ stays literal and spaces are %20, as in Graph's own samples.
	got := c.url(Request{Path: "users", Query: url.Values{"$filter": {"id in ('a','b')"}, "$select": {"id,mail"}}})
	if want := "https://graph.microsoft.com/v1.0/users?$filter=id%20in%20%28%27a%27%2C%27b%27%29&$select=id%2Cmail"; got != want {
		t.Errorf("url = %s\nwant  %s", got, want)
	}
	for _, tc := range []struct{ link, want, err string }{
		{link: "https://graph.microsoft.com/v1.0/users?$skiptoken=X", want: "https://graph.microsoft.com/v1.0/users?$skiptoken=X"},
		{link: "/v1.0/users?$skiptoken=Y", want: "https://graph.microsoft.com/v1.0/users?$skiptoken=Y"},
		// The bearer token goes with every request: never to another host or scheme.
		{link: "https://evil.example/v1.0/users", err: "leaves graph.microsoft.com"},
		{link: "http://graph.microsoft.com/v1.0/users", err: "leaves"},
	} {
		got, err := c.follow("https://graph.microsoft.com/v1.0/users", tc.link)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("follow(%s) = %s, %v; want an error saying %q", tc.link, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("follow(%s) = %s, %v; want %s", tc.link, got, err, tc.want)
		}
	}
	if _, err := NewClient(ClientConfig{BaseURL: "graph.microsoft.com", Tokens: fixedToken("t")}); err == nil {
		t.Error("a base URL without a scheme was accepted")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header   string
		min, max time.Duration
		ok       bool
	}{
		{"", 0, 0, false},
		{"0", 0, 0, true},
		{"3", 3 * time.Second, 3*time.Second + 100*time.Millisecond, true},
		{"-1", 0, 0, false},
		{"soon", 0, 0, false},
		{time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat), 3 * time.Second, 5*time.Second + 100*time.Millisecond, true},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0, true},
	} {
		d, ok := retryAfter(tc.header)
		if ok != tc.ok || d < tc.min || d > tc.max {
			t.Errorf("retryAfter(%q) = %s, %v; want %v in [%s, %s]", tc.header, d, ok, tc.ok, tc.min, tc.max)
		}
	}
}

// A POST that could not be sent (connection refused) is tried again; one the server cut after
// reading it is not, since Graph may have acted on it. The beta root sits beside the configured one.
func TestPostRetriesOnlyWhatWasNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/v1.0"
	_ = ln.Close() // nothing listens there now
	c, err := NewClient(ClientConfig{BaseURL: refused, Tokens: fixedToken("t"), MaxTries: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.PostURL(PostRequest{Path: "a/b", Beta: true}), "http://"+ln.Addr().String()+"/beta/a/b"; got != want {
		t.Errorf("beta URL %s, want %s", got, want)
	}
	if _, err := c.Post(context.Background(), PostRequest{Path: "x", Body: []byte("{}")}); err == nil || c.Stats().Requests != 3 {
		t.Errorf("refused connection: %d attempts, error %v; want 3 attempts and an error", c.Stats().Requests, err)
	}

	var received atomic.Int64
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		_, _ = io.ReadAll(r.Body)
		conn, _, _ := http.NewResponseController(w).Hijack()
		_ = conn.Close() // read, then gone without an answer
	}))
	defer cut.Close()
	c, _ = NewClient(ClientConfig{BaseURL: cut.URL + "/v1.0", Tokens: fixedToken("t"), MaxTries: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if _, err := c.Post(context.Background(), PostRequest{Path: "x", Body: []byte("{}")}); err == nil || received.Load() != 1 {
		t.Errorf("connection cut after sending: the server got it %d times (want 1), error %v", received.Load(), err)
	}
}
