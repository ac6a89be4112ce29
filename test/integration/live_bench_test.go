package integration_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/live"
	"lcw-gateway/server"
)

var liveSubscribers = flag.Int("live-subscribers", 1000, "WebSocket subscribers of BenchmarkLiveBurst")

// liveBurst is how many task reports one write changes in BenchmarkLiveBurst, as a sync pass would.
const liveBurst = 500

// BenchmarkLiveBurst: N WebSocket subscribers of taskReportChanged (each on its own connection,
// selecting the report's task, task definition and run) on one gateway, while one transaction
// changes 500 reports. It reports the delivery latency from commit to client (p50, p99, and until
// the last event, and of each subscriber's first event), the statements the gateway sent per
// burst, and the process's RSS (the clients run in the same process). Run it with -bench LiveBurst -benchtime 1x [-live-subscribers 100].
func BenchmarkLiveBurst(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			dsn := e.DSN(b)
			store, writer := dbtest.Open(b, dsn), dbtest.Open(b, dsn)
			ctx := context.Background()
			reports := burstReports(b, store)
			cfg := live.DefaultConfig()
			cfg.MaxConnectionsPerPrincipal = 0 // every client is on loopback: one principal
			srv := liveServer(b, store, server.WithLive(cfg))
			rssBefore := rssKiB()

			n := *liveSubscribers
			clients := make([]*benchClient, n)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 32)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					clients[i] = dialBench(b, srv.URL)
				}()
			}
			wg.Wait()
			waitSubscribed(b, srv.URL, n)
			rssSubscribed := rssKiB()

			for i := 0; b.Loop(); i++ {
				rows := touched(reports, i)
				for _, c := range clients {
					c.expect(liveBurst)
				}
				// The write goes through a second handle on the database, as an import or sync
				// process would: every statement of the gateway's own store is then its delivery
				// work. Reads of the change feed are counted apart: SQLite's tail reads it every
				// 200 ms whatever happens, so their number measures how long the burst took.
				var loads, feedReads atomic.Int64
				store.TraceStatements(func(sql string, _ []any) {
					if strings.Contains(sql, "change_feed") {
						feedReads.Add(1)
					} else {
						loads.Add(1)
					}
				})
				if _, err := writer.Write(ctx, db.Batch{TaskReports: rows}); err != nil {
					b.Fatal(err)
				}
				committed := time.Now()
				var lat, first []time.Duration
				for _, c := range clients {
					got := c.wait(b)
					first = append(first, got[0].Sub(committed))
					for _, t := range got {
						lat = append(lat, t.Sub(committed))
					}
				}
				store.TraceStatements(nil)
				slices.Sort(lat)
				slices.Sort(first)
				b.ReportMetric(float64(first[len(first)/2].Milliseconds()), "first-p50-ms")
				b.ReportMetric(float64(first[len(first)*99/100].Milliseconds()), "first-p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "last-ms")
				b.ReportMetric(float64(loads.Load()), "stmts/burst")
				b.ReportMetric(float64(loads.Load())/float64(n), "stmts/burst/subscriber")
				b.ReportMetric(float64(feedReads.Load()), "feed-reads/burst")
			}
			b.ReportMetric(float64(rssBefore)/1024, "rss-MiB-before")
			b.ReportMetric(float64(rssSubscribed)/1024, "rss-MiB-subscribed")
			b.ReportMetric(float64(rssKiB())/1024, "rss-MiB-after")
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// burstReports seeds demo data into store and returns liveBurst of its task reports.
func burstReports(t testing.TB, store *db.Store) []*db.TaskReport {
	t.Helper()
	ctx := context.Background()
	opts := demo.Options{Workflows: 3, RunsPerWorkflow: 40, Users: 60, UsersPerRun: 15, Now: benchNow, Seed: 5}
	if _, err := demo.Seed(ctx, store, opts, nil); err != nil {
		t.Fatal(err)
	}
	page, _, err := store.TaskReports(ctx, db.TaskReportFilter{}, db.PageArgs{First: ptrTo(liveBurst)})
	if err != nil || len(page.Items) < liveBurst {
		t.Fatalf("the demo data holds %d reports, want %d: %v", len(page.Items), liveBurst, err)
	}
	return page.Items
}

// touched is Graph's i-th next copy of reports: each updated a minute later.
func touched(reports []*db.TaskReport, i int) []db.TaskReport {
	rows := make([]db.TaskReport, len(reports))
	for j, r := range reports {
		rows[j] = *r
		rows[j].LastUpdatedDateTime = benchNow.Add(time.Duration(i+1) * time.Minute)
	}
	return rows
}

// benchClient is one subscriber that timestamps each event.
type benchClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	got  []time.Time
	want int
	done chan struct{}
}

func dialBench(b *testing.B, url string) *benchClient {
	c, err := dialWS(b, url, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.subscribe("1", `subscription { taskReportChanged { cursor taskReport { id successfulUsersCount task { displayName } taskDefinition { id } run { id } } } }`, nil)
	bc := &benchClient{conn: c.conn}
	go func() {
		for m := range c.msgs {
			if m.Type != "next" {
				continue
			}
			bc.mu.Lock()
			bc.got = append(bc.got, time.Now())
			if len(bc.got) == bc.want && bc.done != nil {
				close(bc.done)
				bc.done = nil
			}
			bc.mu.Unlock()
		}
	}()
	return bc
}

func (c *benchClient) expect(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got, c.want, c.done = nil, n, make(chan struct{})
}

func (c *benchClient) wait(b *testing.B) []time.Time {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("a subscriber got %d of %d events", len(c.got), c.want)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got
}

// rssKiB is the process's resident set size.
func rssKiB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
			return kib
		}
	}
	return 0
}
