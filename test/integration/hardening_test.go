package integration_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lcw-gateway/auth"
	"lcw-gateway/auth/authtest"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/endpoint"
	"lcw-gateway/errcode"
	"lcw-gateway/server"
)

// listen serves h through server.Serve on a loopback port until the test ends; it returns the
// base URL.
func listen(t testing.TB, h http.Handler) string {
	t.Helper()
	return listenWith(t, h, server.DefaultLimits())
}

func listenWith(t testing.TB, h http.Handler, limits server.Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, h, slog.New(slog.DiscardHandler), limits) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// wireReply is an HTTP answer of the served gateway.
type wireReply struct {
	status int
	header http.Header
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Data json.RawMessage `json:"data"`
}

// do sends req with client (nil: the default) and decodes a JSON answer.
func do(t testing.TB, client *http.Client, req *http.Request) wireReply {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := wireReply{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/graphql-response+json") {
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("status %d: %v: %.300s", resp.StatusCode, err, body)
		}
	}
	return r
}

func graphqlRequest(t testing.TB, base, query, token string) *http.Request {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// metric reads one counter or gauge without labels from /metrics.
func metric(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// floodQuery is issue 13's field flood: ~4,980 fields in 14 kB, under the token limit.
func floodQuery(comment string) string {
	return "# " + comment + "\n{ workflows(first: 1) { nodes {" + strings.Repeat(" id", 4980) + " } } }"
}

// The field flood is refused with max-fields before gqlgen validates it (the validation counter
// does not move), concurrently and with a new comment each time; the gateway keeps answering.
func TestFieldFloodIsRefusedBeforeValidation(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	base := listen(t, server.New(store, slog.New(slog.DiscardHandler), nil))
	good := `{ workflows(first: 1) { totalCount } }`
	if r := do(t, nil, graphqlRequest(t, base, good, "")); r.status != 200 || len(r.Errors) > 0 {
		t.Fatalf("a good query: %d %+v", r.status, r.Errors)
	}
	before := metric(t, base, "lcw_graphql_validations_total")
	if before != 1 {
		t.Fatalf("%v validations after one query", before)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, nil, graphqlRequest(t, base, floodQuery(fmt.Sprint("attempt ", i)), ""))
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != errcode.LimitExceeded || r.Errors[0].Extensions["limit"] != "max-fields" {
				t.Errorf("flood %d: %d %+v", i, r.status, r.Errors)
			}
		}()
	}
	wg.Wait()
	if after := metric(t, base, "lcw_graphql_validations_total"); after != before {
		t.Errorf("the refused floods were validated: %v validations, %v before", after, before)
	}
	// The same good query with another comment and layout comes from the document cache.
	if r := do(t, nil, graphqlRequest(t, base, "# refreshed tile\n{\n  workflows(first: 1) {\n    totalCount\n  }\n}", "")); r.status != 200 || len(r.Errors) > 0 {
		t.Fatalf("the good query again: %d %+v", r.status, r.Errors)
	}
	if after := metric(t, base, "lcw_graphql_validations_total"); after != before {
		t.Errorf("a comment change validated the document again: %v validations, %v before", after, before)
	}
}

// BenchmarkFieldFlood is the CPU one flood costs the served gateway: refused before validation
// (at 1 and at 20 concurrent clients: it must not grow with concurrency), validated in full with
// --max-fields=0 (the cost before the limit existed), and the largest document the default
// admits, validated. Each request is another document (its operation name), so the document
// cache cannot help. cpu-ms/op is the process's CPU time per request, which on a shared machine
// says more than the wall time.
func BenchmarkFieldFlood(b *testing.B) {
	store := dbtest.Open(b, dbtest.SQLiteDSN(b))
	unlimited := endpoint.DefaultPolicy()
	unlimited.MaxFields, unlimited.RequestTimeout = 0, 0
	logger := slog.New(slog.DiscardHandler)
	defaults := listen(b, server.New(store, logger, nil))
	// Without the limit a flood takes seconds on a busy machine: no write timeout either.
	noFieldLimit := listenWith(b, server.New(store, logger, nil, server.WithPolicy(unlimited)), server.Limits{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	atLimit := endpoint.DefaultPolicy().MaxFields - 2
	for _, tc := range []struct {
		name     string
		base     string
		ids      int
		clients  int
		refusing bool
	}{
		{"refused/clients=1", defaults, 4980, 1, true},
		{"refused/clients=20", defaults, 4980, 20, true},
		{"validated/clients=1", noFieldLimit, 4980, 1, false},
		{"admitted-at-limit/clients=1", defaults, atLimit, 1, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var n atomic.Int64
			cpu := processCPU()
			b.SetParallelism(max(tc.clients/runtime.GOMAXPROCS(0), 1)) // RunParallel runs GOMAXPROCS × this goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					q := fmt.Sprintf("query Q%d { workflows(first: 1) { nodes {%s } } }", n.Add(1), strings.Repeat(" id", tc.ids))
					r := do(b, client, graphqlRequest(b, tc.base, q, ""))
					if refused := len(r.Errors) == 1 && r.Errors[0].Extensions["limit"] == "max-fields"; refused != tc.refusing {
						b.Errorf("refused %v: %d %+v", refused, r.status, r.Errors)
					}
				}
			})
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU is the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Under --auth none a page elsewhere can rebind its own name to 127.0.0.1; the gateway answers
// only loopback names and --allowed-hosts, on every route.
func TestForeignHostIsRefused(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	guard, err := auth.New(context.Background(), auth.Config{Mode: "none", AllowedHosts: []string{"gateway.internal"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, server.New(store, slog.New(slog.DiscardHandler), guard))
	port := strings.TrimPrefix(base, "http://127.0.0.1")
	for host, want := range map[string]int{
		"127.0.0.1" + port: 200, "localhost" + port: 200, "LOCALHOST": 200, "[::1]" + port: 200, "gateway.internal" + port: 200,
		"attacker.example": 421, "attacker.example" + port: 421, "127.0.0.1.nip.io" + port: 421, "localhost.attacker.example": 421,
	} {
		for _, path := range []string{"/graphql", "/", "/metrics", "/healthz"} {
			var req *http.Request
			if path == "/graphql" {
				req = graphqlRequest(t, base, `{ workflows { totalCount } }`, "")
			} else {
				req, _ = http.NewRequest(http.MethodGet, base+path, nil)
			}
			req.Host = host
			r := do(t, nil, req)
			if r.status != want {
				t.Errorf("Host %s, %s: %d, want %d", host, path, r.status, want)
			}
			if want == 421 && (len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != errcode.Forbidden || !strings.Contains(r.Errors[0].Message, "--allowed-hosts")) {
				t.Errorf("Host %s, %s: the refusal does not say why: %+v", host, path, r.Errors)
			}
		}
	}
}

// A flood of tokens naming unknown key ids, from one address, takes the unknown-kid refresh and
// then gets 429; a token signed with a key published meanwhile, from another address, is
// accepted by the next scheduled refresh (the unknown-kid refresh is an hour away here).
func TestJunkKIDFloodDoesNotHoldBackANewKey(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	iss := authtest.NewIssuer(t)
	const refresh = 500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	guard, err := auth.New(ctx, auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience,
		ClockSkew: time.Minute, Permissions: []string{"LifecycleWorkflows.Read.All"}, RateLimit: 1000, RateBurst: 1000,
		AuthFailureLimit: 30, JWKSRefresh: refresh, JWKSUnknownKIDRefresh: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, server.New(store, slog.New(slog.DiscardHandler), guard))
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	attacker, user := from("127.0.0.2"), from("127.0.0.1")
	claims := iss.Claims(tenantA, "user-1", "LifecycleWorkflows.Read.All")
	junkKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// The flood runs until the new key is through.
	var refused, limited, slowest atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				junk := authtest.SignWith(t, jwt.SigningMethodES256, fmt.Sprintf("junk-%d-%d", w, i), junkKey, claims)
				start := time.Now()
				r := do(t, attacker, graphqlRequest(t, base, `{ workflows { totalCount } }`, junk))
				if d := time.Since(start).Milliseconds(); d > slowest.Load() {
					slowest.Store(d)
				}
				switch r.status {
				case http.StatusUnauthorized:
					refused.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					t.Errorf("a junk token: %d", r.status)
				}
			}
		}()
	}
	for refused.Load() == 0 {
		time.Sleep(10 * time.Millisecond) // the first junk token has taken the unknown-kid refresh
	}
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	iss.AddKey(t, "ec-new", newKey)
	published := time.Now()
	token := authtest.SignWith(t, jwt.SigningMethodES256, "ec-new", newKey, claims)
	var accepted bool
	for time.Since(published) < 20*refresh {
		if r := do(t, user, graphqlRequest(t, base, `{ workflows { totalCount } }`, token)); r.status == http.StatusOK {
			accepted = true
			break
		}
		time.Sleep(refresh / 5)
	}
	close(stop)
	wg.Wait()
	t.Logf("new key accepted after %s; flood: %d refused, %d rate-limited, slowest %d ms", time.Since(published).Round(time.Millisecond),
		refused.Load(), limited.Load(), slowest.Load())
	if !accepted {
		t.Fatalf("a token of a key published %s ago is still refused (scheduled refresh every %s)", time.Since(published), refresh)
	}
	if limited.Load() == 0 {
		t.Error("the flood of failed authentications from one address was never rate-limited")
	}
}

// With --auth jwt, /metrics needs a token like /graphql; --metrics-addr moves it to a mux (and
// listener) of its own, where the main one no longer has it.
func TestMetricsAreNotForAnyone(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	iss := authtest.NewIssuer(t)
	guard, err := auth.New(context.Background(), auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience,
		ClockSkew: time.Minute, Permissions: []string{"LifecycleWorkflows.Read.All"}, RateLimit: 100, RateBurst: 100}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	get := func(base, token string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(t, nil, req).status
	}
	base := listen(t, server.New(store, slog.New(slog.DiscardHandler), guard))
	token := iss.Sign(t, iss.Claims(tenantA, "scraper", "LifecycleWorkflows.Read.All"))
	if got := get(base, ""); got != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d", got)
	}
	if got := get(base, token); got != http.StatusOK {
		t.Errorf("/metrics with a token: %d", got)
	}
	metricsMux := http.NewServeMux()
	base = listen(t, server.New(store, slog.New(slog.DiscardHandler), guard, server.WithMetricsMux(metricsMux)))
	if got := get(base, token); got != http.StatusNotFound {
		t.Errorf("/metrics on the main listener with --metrics-addr: %d", got)
	}
	if got := get(listen(t, metricsMux), ""); got != http.StatusOK {
		t.Errorf("/metrics on its own listener: %d", got)
	}
}

// The time limit starts when the request arrives: a body that takes longer than the limit to
// arrive leaves no time to run, and the answer says so in one error.
func TestDeadlineStartsOnArrival(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	p := endpoint.DefaultPolicy()
	p.RequestTimeout = 200 * time.Millisecond
	base := listen(t, server.New(store, slog.New(slog.DiscardHandler), nil, server.WithPolicy(p)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query": "{ workflows { totalCount } }"}`
	_, _ = fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	time.Sleep(2 * p.RequestTimeout)
	_, _ = io.WriteString(conn, body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r wireReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != errcode.LimitExceeded || r.Errors[0].Extensions["limit"] != "graphql-timeout" ||
		r.Errors[0].Extensions["max"] != "200ms" {
		t.Fatalf("a request whose body came after its time limit: %d %+v %s", resp.StatusCode, r.Errors, r.Data)
	}
}
