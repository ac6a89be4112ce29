package endpoint

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/errcode"
	"lcw-gateway/graph/graphtest"
)

const poolQuery = `{ workflows(first: 5) { totalCount nodes { id runs(first: 5) { nodes { id } } } } }`

// seedPoolData writes a few workflows with runs: enough for a request to send several statements.
func seedPoolData(t *testing.T, s *db.Store) {
	t.Helper()
	ctx := context.Background()
	var workflows []db.Workflow
	var runs []db.Run
	for i := range 5 {
		w := fmt.Sprintf("w%d", i)
		workflows = append(workflows, db.Workflow{ID: w, DisplayName: "Workflow " + w, Category: db.WorkflowJoiner})
		for j := range 3 {
			runs = append(runs, db.Run{ID: fmt.Sprintf("%s-r%d", w, j), WorkflowID: w, ProcessingStatus: db.StatusCompleted,
				WorkflowExecutionType: db.ExecutionScheduled, ScheduledDateTime: time.Date(2025, 1, 1+j, 0, 0, 0, 0, time.UTC)})
		}
	}
	if _, err := s.Write(ctx, db.Batch{Workflows: workflows, Runs: runs}); err != nil {
		t.Fatal(err)
	}
}

// A read that finds the pool taken until its time limit gets SERVICE_UNAVAILABLE and 503, not
// INTERNAL or a timeout, and the gateway answers again once a connection is free.
func TestExhaustedPoolIsServiceUnavailable(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, err := db.OpenWith(context.Background(), db.Config{DSN: e.DSN(t), MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		seedPoolData(t, s)
		policy := DefaultPolicy()
		policy.RequestTimeout = 200 * time.Millisecond
		h := NewHandler(s, slog.New(slog.DiscardHandler), Options{Policy: &policy})

		pool, err := s.SQL()
		if err != nil {
			t.Fatal(err)
		}
		held, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Two root fields, each waiting for the pool: one error for the one cause.
		resp := graphtest.Post(t, h, `{ a: workflows(first: 1) { nodes { id } } b: workflows(first: 2) { nodes { id } } }`, nil)
		_ = held.Close()
		if resp.Status != http.StatusServiceUnavailable || len(resp.Errors) != 1 {
			t.Fatalf("status %d, errors %+v; want 503 with one SERVICE_UNAVAILABLE", resp.Status, resp.Errors)
		}
		for _, e := range resp.Errors {
			if e.Code() != errcode.ServiceUnavailable {
				t.Errorf("error %q has code %s, want %s", e.Message, e.Code(), errcode.ServiceUnavailable)
			}
		}
		if again := graphtest.Post(t, h, poolQuery, nil); again.Status != http.StatusOK || len(again.Errors) > 0 {
			t.Errorf("after the pool freed up: status %d, errors %+v", again.Status, again.Errors)
		}
	})
}

// 200 clients at once on PostgreSQL with the default pool: the gateway never holds more backends
// than the pool allows, and every request either answers or gets the coded error.
func TestConcurrentRequestsStayWithinThePool(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	s := dbtest.Open(t, dsn)
	seedPoolData(t, s)
	// A real listener: each client holds its own connection to the gateway, as over a network.
	srv := httptest.NewServer(NewHandler(s, slog.New(slog.DiscardHandler), Options{}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	limit := db.DefaultMaxOpenConns(true)

	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	monitor, err := pgx.Connect(context.Background(), strings.Replace(dsn, "/"+name, "/postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer monitor.Close(context.Background())
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			var n int64
			if err := monitor.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name).Scan(&n); err == nil && n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	const clients = 200
	var answered, unavailable atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := graphtest.PostURL(t, client, srv.URL, poolQuery, nil)
			switch {
			case resp.Status == http.StatusOK && len(resp.Errors) == 0:
				answered.Add(1)
			case resp.Status == http.StatusServiceUnavailable && len(resp.Errors) > 0 && resp.Errors[0].Code() == errcode.ServiceUnavailable:
				unavailable.Add(1)
			default:
				t.Errorf("status %d, errors %+v", resp.Status, resp.Errors)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-watched
	t.Logf("%d clients: %d answered, %d SERVICE_UNAVAILABLE; peak backends %d, pool %d", clients, answered.Load(), unavailable.Load(), peak.Load(), limit)
	if peak.Load() > int64(limit) {
		t.Errorf("the gateway held %d backends, more than its pool of %d", peak.Load(), limit)
	}
	if peak.Load() == 0 {
		t.Error("the monitor saw no backend: the check saw nothing")
	}
	if answered.Load()+unavailable.Load() != clients {
		t.Errorf("%d of %d requests answered or got SERVICE_UNAVAILABLE", answered.Load()+unavailable.Load(), clients)
	}
}
