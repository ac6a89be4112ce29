// Command soak is the soak benchmark of issue 13, run by hand from the repository root:
//
//	go run ./test/soak                    # 5 minutes, 50 connections
//	go run ./test/soak -duration 1m       # or LCW_SOAK_DURATION=1m
//
// It builds the gateway, serves it with its defaults (--auth none, SQLite, demo data) on a
// loopback port and drives it with a dashboard's load (the example operations, as tiles a page
// opens at once) mixed with the hostile requests of issue 13: field floods with changing
// comments, alias and depth bombs, oversized and malformed bodies, foreign Host names, and
// connections that send slowly, never read, or sit idle. It reports requests per second, the
// dashboard's latency percentiles, unexpected answers, and the gateway's RSS: at the baseline,
// at its peak and after the load has stopped. It is not a test: it asserts nothing, it measures.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	duration := flag.Duration("duration", envDuration("LCW_SOAK_DURATION", 5*time.Minute), "how long the load runs (env LCW_SOAK_DURATION)")
	conns := flag.Int("conns", 50, "concurrent client connections")
	hostile := flag.Float64("hostile", 0.1, "share of requests that are hostile")
	settle := flag.Duration("settle", 130*time.Second, "how long to wait after the load before reading the RSS again (the Go runtime collects at least every 2 minutes)")
	flag.Parse()
	if err := run(*duration, *conns, *hostile, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func run(duration time.Duration, conns int, hostileShare float64, settle time.Duration) error {
	dir, err := os.MkdirTemp("", "lcw-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lcw-gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gw := exec.CommandContext(ctx, bin, "serve", "--addr", addr)
	gw.Env = append(os.Environ(), "LCW_DB="+filepath.Join(dir, "soak.db"), "LCW_LOG_LEVEL=error")
	gw.Stderr = os.Stderr
	if err := gw.Start(); err != nil {
		return err
	}
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}
	tiles, err := dashboardTiles(base)
	if err != nil {
		return err
	}
	pid := gw.Process.Pid
	baseline := rssKiB(pid, "VmRSS")
	baseRuntime := runtimeFigures(base)
	fmt.Printf("gateway pid %d on %s; %d dashboard tiles; baseline RSS %d MiB; %d connections (%d holding) for %s, %.0f%% of requests hostile\n",
		pid, addr, len(tiles), baseline>>10, conns, conns/10, duration, hostileShare*100)

	var st stats
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	// A tenth of the connections are hostile holders (slow bodies, non-readers, idle keep-alives),
	// each held until the gateway closes it; the others send requests back to back.
	holders := conns / 10
	big := bigAnswer(tiles)
	for h := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := h; time.Now().Before(stop); i++ {
				st.hostile(holdConnection(addr, i%3, big))
			}
		}()
	}
	for w := range conns - holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections() // what is still open after is the gateway's doing
			rng := rand.New(rand.NewPCG(uint64(w), 13))
			for time.Now().Before(stop) {
				if rng.Float64() < hostileShare {
					st.hostile(hostileRequest(client, base, rng))
					continue
				}
				start := time.Now()
				ok := dashboardRequest(client, base, tiles[rng.IntN(len(tiles))])
				st.dashboard(time.Since(start), ok)
			}
		}()
	}
	peak := int64(0)
	ticker := time.NewTicker(time.Second)
	for time.Now().Before(stop) {
		<-ticker.C
		peak = max(peak, rssKiB(pid, "VmRSS"))
	}
	ticker.Stop()
	wg.Wait()
	atStop, stopRuntime := rssKiB(pid, "VmRSS"), runtimeFigures(base)
	time.Sleep(settle)
	after, afterRuntime := rssKiB(pid, "VmRSS"), runtimeFigures(base)
	peak = max(peak, rssKiB(pid, "VmHWM"))
	st.report(duration, baseline, peak, atStop, after, settle)
	// RSS falls back slowly (the Go runtime returns freed pages to the system over minutes); the
	// heap in use and the goroutines say whether anything is still held.
	fmt.Printf("gateway heap in use: baseline %s, at stop %s, after %s; goroutines: %s, %s, %s\n",
		baseRuntime[0], stopRuntime[0], afterRuntime[0], baseRuntime[1], stopRuntime[1], afterRuntime[1])
	_ = gw.Process.Kill()
	_ = gw.Wait()
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(base string) error {
	for range 600 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not get ready", base)
}

// rssKiB reads a field (VmRSS, VmHWM) of /proc/PID/status, in KiB.
func rssKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// runtimeFigures are the gateway's heap in use (MiB) and goroutines, from /metrics.
func runtimeFigures(base string) [2]string {
	out := [2]string{"?", "?"}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				out[0] = fmt.Sprintf("%.0f MiB", f/(1<<20))
			}
		}
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			out[1] = v
		}
	}
	return out
}

// tile is one request of a dashboard page.
type tile struct {
	query string
	vars  map[string]any
}

// dashboardTiles are the example operations for each workflow of the demo data, plus the list.
func dashboardTiles(base string) ([]tile, error) {
	var list struct {
		Data struct {
			Workflows struct{ Nodes []struct{ ID string } }
		}
	}
	if err := post(http.DefaultClient, base, tile{query: `{ workflows(first: 20) { nodes { id } } }`}, &list); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob("examples/operations/*.graphql")
	if len(files) == 0 || len(list.Data.Workflows.Nodes) == 0 {
		return nil, fmt.Errorf("run from the repository root (examples/operations) against demo data")
	}
	now := time.Now().UTC()
	tiles := []tile{{query: `{ workflows { totalCount nodes { id displayName category isEnabled } } }`}}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, w := range list.Data.Workflows.Nodes {
			tiles = append(tiles, tile{query: string(src), vars: map[string]any{"workflowId": w.ID,
				"start": now.AddDate(0, -3, 0), "end": now, "since": now.AddDate(0, -3, 0)}})
		}
	}
	return tiles, nil
}

func post(client *http.Client, base string, t tile, into any) error {
	body, _ := json.Marshal(map[string]any{"query": t.query, "variables": t.vars})
	resp, err := client.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// dashboardRequest runs a tile; ok is a 200 without errors.
func dashboardRequest(client *http.Client, base string, t tile) bool {
	var r struct {
		Errors []json.RawMessage `json:"errors"`
	}
	return post(client, base, t, &r) == nil && len(r.Errors) == 0
}

// hostileRequest sends one of the hostile requests and tells its kind and whether the gateway
// answered it as it should.
func hostileRequest(client *http.Client, base string, rng *rand.Rand) (string, bool) {
	switch rng.IntN(4) {
	case 0: // the field flood, with a new comment each time
		return "field flood", expectStatus(client, graphql(base, "# "+strconv.Itoa(rng.Int())+"\n{ workflows { nodes {"+strings.Repeat(" id", 4980)+" } } }"), 200, "max-fields")
	case 1: // an alias bomb
		return "alias bomb", expectStatus(client, graphql(base, "{ workflows { nodes {"+strings.Repeat(" a: id b: displayName", 200)+" } } }"), 200, "max-aliases")
	case 2: // an oversized body
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(bytes.Repeat([]byte(" "), 2<<20)))
		req.Header.Set("Content-Type", "application/json")
		return "oversized body", expectStatus(client, req, http.StatusRequestEntityTooLarge, "")
	default: // a foreign Host (DNS rebinding)
		req := graphql(base, `{ workflows { totalCount } }`)
		req.Host = "attacker.example"
		return "foreign Host", expectStatus(client, req, http.StatusMisdirectedRequest, "")
	}
}

// bigAnswer is the request body of the largest tile: a page of 500 failed results.
func bigAnswer(tiles []tile) []byte {
	for _, t := range tiles {
		if strings.Contains(t.query, "query FailedResults") {
			vars := maps.Clone(t.vars)
			vars["first"] = 500
			b, _ := json.Marshal(map[string]any{"query": t.query, "variables": vars})
			return b
		}
	}
	return []byte(`{"query": "{ workflows(first: 500) { nodes { id displayName description } } }"}`)
}

// holdConnection holds a connection the hostile way (0: a slow body, 1: a client that asks for a
// big answer and never reads, 2: an idle keep-alive) and tells whether the gateway closed it
// within its timeouts (the defaults: read 15s, write 20s, idle 60s, plus a margin: an answer
// that fits the socket buffers leaves the connection idle, not held).
func holdConnection(addr string, how int, big []byte) (string, bool) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "hold: dial", false
	}
	defer conn.Close()
	kind, bound := "", 30*time.Second
	switch how {
	case 0:
		kind = "slow body"
		_, _ = io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":")
	case 1:
		kind = "non-reading client"
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetReadBuffer(4096) // a non-reader's window stays small
		}
		_, _ = fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(big), big)
		time.Sleep(25 * time.Second) // reads nothing meanwhile
		bound = 70 * time.Second
	default:
		kind, bound = "idle keep-alive", 90*time.Second
		_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return kind, false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	_ = conn.SetReadDeadline(time.Now().Add(bound))
	_, err = io.Copy(io.Discard, conn)
	ne, isNetErr := err.(net.Error)
	return kind, !isNetErr || !ne.Timeout()
}

func graphql(base, query string) *http.Request {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// expectStatus sends req and tells whether the answer is the status (and, when given, the limit
// named in the first error) the gateway should give.
func expectStatus(client *http.Client, req *http.Request, status int, limit string) bool {
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == status && (limit == "" || bytes.Contains(b, []byte(`"limit":"`+limit+`"`)))
}

// stats are the figures of a run.
type stats struct {
	mu        sync.Mutex
	latencies []time.Duration
	failed    atomic.Int64
	hostileN  map[string][2]int64 // kind → [answered as expected, unexpected]
}

func (s *stats) dashboard(d time.Duration, ok bool) {
	if !ok {
		s.failed.Add(1)
	}
	s.mu.Lock()
	s.latencies = append(s.latencies, d)
	s.mu.Unlock()
}

func (s *stats) hostile(kind string, expected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hostileN == nil {
		s.hostileN = map[string][2]int64{}
	}
	c := s.hostileN[kind]
	if expected {
		c[0]++
	} else {
		c[1]++
	}
	s.hostileN[kind] = c
}

func (s *stats) report(duration time.Duration, baseline, peak, atStop, after int64, settle time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.Sort(s.latencies)
	pct := func(p float64) time.Duration {
		if len(s.latencies) == 0 {
			return 0
		}
		return s.latencies[min(int(p*float64(len(s.latencies))), len(s.latencies)-1)].Round(100 * time.Microsecond)
	}
	total := int64(len(s.latencies))
	unexpected := int64(0)
	kinds := make([]string, 0, len(s.hostileN))
	for k, c := range s.hostileN {
		total += c[0] + c[1]
		unexpected += c[1]
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, cmp.Compare)
	fmt.Printf("requests: %d in %s, %.0f req/s\n", total, duration, float64(total)/duration.Seconds())
	fmt.Printf("dashboard: %d requests, %d failed; p50 %s, p95 %s, p99 %s, max %s\n",
		len(s.latencies), s.failed.Load(), pct(0.50), pct(0.95), pct(0.99), pct(1))
	for _, k := range kinds {
		fmt.Printf("hostile %-20s %6d answered as expected, %d not\n", k+":", s.hostileN[k][0], s.hostileN[k][1])
	}
	fmt.Printf("errors (failed dashboard requests + unexpected hostile answers): %d\n", s.failed.Load()+unexpected)
	fmt.Printf("gateway RSS: baseline %d MiB, peak %d MiB, at stop %d MiB, %s after %d MiB\n",
		baseline>>10, peak>>10, atStop>>10, settle, after>>10)
}
