package integration_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/endpoint"
	"lcw-gateway/live"
	"lcw-gateway/server"
)

// sharedEvent is one event as a client received it: the report, the cursor and the raw payload.
type sharedEvent struct {
	id, cursor string
	payload    []byte
}

func readShared(c *wsClient, id string) sharedEvent {
	c.t.Helper()
	m := c.next(id)
	if m.Type != "next" {
		c.t.Fatalf("subscription %s: %s %s, want next", id, m.Type, m.Payload)
	}
	var resp struct {
		Data   reportEvent
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(m.Payload, &resp); err != nil || len(resp.Errors) > 0 {
		c.t.Fatalf("subscription %s: %s", id, m.Payload)
	}
	return sharedEvent{resp.Data.TaskReportChanged.TaskReport.ID, resp.Data.TaskReportChanged.Cursor, m.Payload}
}

// countReads counts the statements store sends, but the change feed's reads (one per wake-up
// of the gateway whatever its subscribers), until the returned function is called.
func countReads(store *db.Store) func() int {
	var n atomic.Int64
	store.TraceStatements(func(sql string, _ []any) {
		if !strings.Contains(sql, "change_feed") {
			n.Add(1)
		}
	})
	return func() int { store.TraceStatements(nil); return int(n.Load()) }
}

// TestSharedSubscriptionsCostTheSame: subscribers of one tenant with the same document share one
// execution, so a burst costs the gateway the same statements for 12 subscribers as for 2, and
// every subscriber receives the same bytes. One that resumes after a cursor joins the group: it
// receives what it missed, then the group's live events, nothing twice.
func TestSharedSubscriptionsCostTheSame(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		store, writer := dbtest.Open(t, dsn), dbtest.Open(t, dsn) // the import runs as another process would
		dir := importedCopy(t, writer)
		srv := liveServer(t, store)
		vars := map[string]any{"wf": docsWorkflow}

		var clients []*wsClient
		burst := func(minute int, ids ...string) ([][]sharedEvent, int) {
			t.Helper()
			waitSubscribed(t, srv.URL, len(clients))
			done := countReads(store)
			touchReports(t, dir, minute, ids...)
			importDir(t, writer, dir)
			got := make([][]sharedEvent, len(clients))
			for i, c := range clients {
				for range ids {
					got[i] = append(got[i], readShared(c, "1"))
				}
			}
			return got, done()
		}
		for range 2 {
			c := mustDial(t, srv.URL, nil)
			c.subscribe("1", reportSub, vars)
			clients = append(clients, c)
		}
		first, few := burst(1, docsReportA, docsReportB)
		for range 10 {
			c := mustDial(t, srv.URL, nil)
			c.subscribe("1", reportSub, vars)
			clients = append(clients, c)
		}
		second, many := burst(2, docsReportA, docsReportB)
		if few == 0 || many != few {
			t.Errorf("statements of a burst: %d for 2 subscribers, %d for 12; want the same, more than 0", few, many)
		}
		for _, got := range [][][]sharedEvent{first, second} {
			var ids []string
			for _, ev := range got[0] {
				ids = append(ids, ev.id)
			}
			want := []string{docsReportA, docsReportB}
			slices.Sort(ids)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Fatalf("a burst delivered %v, want reports A and B", ids)
			}
			for i, evs := range got[1:] {
				for j := range evs {
					if !bytes.Equal(evs[j].payload, got[0][j].payload) {
						t.Fatalf("subscriber %d's event %d differs from subscriber 0's:\n%s\n%s", i+1, j, evs[j].payload, got[0][j].payload)
					}
				}
			}
		}

		// A client resuming after the first event of the first burst joins the running group.
		seen := append(append([]sharedEvent{}, first[0]...), second[0]...)
		var want []sharedEvent // what it missed, a report once, at its last change
		for i, ev := range seen[1:] {
			if !slices.ContainsFunc(seen[i+2:], func(later sharedEvent) bool { return later.id == ev.id }) {
				want = append(want, ev)
			}
		}
		r := mustDial(t, srv.URL, nil)
		r.subscribe("1", reportSub, map[string]any{"wf": docsWorkflow, "after": seen[0].cursor})
		for _, w := range want {
			if got := readShared(r, "1"); got.id != w.id || got.cursor != w.cursor {
				t.Fatalf("replay: %s at %s, want %s at %s", got.id, got.cursor, w.id, w.cursor)
			}
		}
		clients = append(clients, r)
		third, _ := burst(3, docsReportC)
		if live := third[len(third)-1][0]; live.id != docsReportC || !bytes.Equal(live.payload, third[0][0].payload) {
			t.Fatalf("the resumed client's live event: %s, want report C as the others got it:\n%s\n%s", live.id, live.payload, third[0][0].payload)
		}
	})
}

// slowDialer opens connections with a small receive buffer, so a client that stops reading
// backs the server up after a few kilobytes instead of the kernel's megabytes.
var slowDialer = &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
	var err error
	_ = c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	return err
}}

var slowHTTP = &http.Client{Transport: &http.Transport{DialContext: slowDialer.DialContext}}

// TestSlowSubscriberIsDropped: a WebSocket client and an SSE client that stop reading are
// disconnected once more than --max-pending-changes events wait for them, while a client that
// reads receives every event of every burst; the gateway's gauges come back down.
func TestSlowSubscriberIsDropped(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		ctx := context.Background()
		reports := burstReports(t, store)
		cfg := live.DefaultConfig()
		cfg.MaxConnectionsPerPrincipal, cfg.MaxPendingChanges = 0, 2*liveBurst
		srv := liveServer(t, store, server.WithLive(cfg))
		const doc = `subscription { taskReportChanged { cursor changedDateTime taskReport { id lastUpdatedDateTime processingStatus
			successfulUsersCount failedUsersCount unprocessedUsersCount totalUsersCount task { displayName description } run { id } } } }`

		fast := mustDial(t, srv.URL, nil)
		fast.subscribe("1", doc, nil)
		wsCtx, cancel := context.WithTimeout(ctx, waitFor)
		defer cancel()
		slowWS, _, err := websocket.Dial(wsCtx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: slowHTTP})
		if err != nil {
			t.Fatal(err)
		}
		defer slowWS.CloseNow()
		for _, m := range []wsMessage{{Type: "connection_init"}, {Type: "subscribe", ID: "1", Payload: mustJSON(t, map[string]any{"query": doc})}} {
			if err := slowWS.Write(wsCtx, websocket.MessageText, mustJSON(t, m)); err != nil {
				t.Fatal(err)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(string(mustJSON(t, map[string]any{"query": doc}))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		slowSSE, err := slowHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer slowSSE.Body.Close()
		waitSubscribed(t, srv.URL, 3)

		dropped := false
		for i := 0; i < 40 && !dropped; i++ {
			if _, err := store.Write(ctx, db.Batch{TaskReports: touched(reports, i)}); err != nil {
				t.Fatal(err)
			}
			for range liveBurst {
				readShared(fast, "1")
			}
			dropped = strings.Contains(metricsText(t, srv.URL), "lcw_subscriptions_dropped_slow_total 2\n")
		}
		if !dropped {
			t.Fatalf("after 40 bursts the slow clients are still connected:\n%s", metricsText(t, srv.URL))
		}
		waitSubscribed(t, srv.URL, 1) // the reader's alone remains
		waitMetric(t, srv.URL, "lcw_subscription_connections_active 1\n")
		// The slow WebSocket, reading at last, finds its socket closed after what was sent.
		readCtx, cancelRead := context.WithTimeout(ctx, waitFor)
		defer cancelRead()
		for {
			if _, _, err := slowWS.Read(readCtx); err != nil {
				if readCtx.Err() != nil {
					t.Fatal("the slow WebSocket was not closed")
				}
				break
			}
		}
	})
}

func metricsText(t testing.TB, srvURL string) string {
	t.Helper()
	resp, err := http.Get(srvURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

func waitMetric(t testing.TB, srvURL, line string) {
	t.Helper()
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(metricsText(t, srvURL), line) {
			return
		}
	}
	t.Fatalf("/metrics never showed %q", strings.TrimSpace(line))
}

// TestPersistedSubscriptionOverWebSocket: with --persisted-only, a subscription of the manifest
// runs over WebSocket by its id alone (no text, as the dashboard's production build sends it),
// and one that is not in the manifest is refused.
func TestPersistedSubscriptionOverWebSocket(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	dir := importedCopy(t, store)
	sum := sha256.Sum256([]byte(reportSub))
	id := hex.EncodeToString(sum[:])
	manifest := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(manifest, mustJSON(t, map[string]string{id: reportSub}), 0o600); err != nil {
		t.Fatal(err)
	}
	p := endpoint.DefaultPolicy()
	p.PersistedOnly = manifest
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := liveServer(t, store, server.WithPolicy(p))
	c := mustDial(t, srv.URL, nil)
	c.send(wsMessage{Type: "subscribe", ID: "1", Payload: mustJSON(t, map[string]any{"query": "", "variables": map[string]any{"wf": docsWorkflow},
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": id}}})})
	waitSubscribed(t, srv.URL, 1)
	touchReports(t, dir, 30, docsReportB)
	importDir(t, store, dir)
	if got, _ := reportID(c, "1"); got != docsReportB {
		t.Fatalf("the persisted subscription got %s, want report B", got)
	}
	c.subscribe("2", `subscription { runChanged { cursor } }`, nil)
	if errs := c.errorsOf("2"); errs[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("a subscription outside the manifest: %+v", errs)
	}
}
