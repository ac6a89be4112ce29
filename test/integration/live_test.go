package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
)

// wsClient speaks graphql-transport-ws (the graphql-ws library's protocol) to a real server.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan wsMessage
	held map[string][]wsMessage // read while waiting for another subscription's
	// closed receives the close status once the server closes the socket.
	closed chan websocket.CloseError
	// end is why the socket ended (a websocket.CloseError, or the read's error); it is set
	// before msgs is closed, so a receiver that sees msgs closed may read it.
	end error
}

type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// waitFor bounds every wait for a message that must come; it is a deadline against hanging, not
// a measure of speed.
const waitFor = 20 * time.Second

// dialWS opens a socket and sends connection_init with payload; it returns the client and the
// server's first answer (connection_ack, or the close that refuses it).
func dialWS(t testing.TB, url string, header http.Header, payload map[string]any) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	c := &wsClient{t: t, conn: conn, msgs: make(chan wsMessage, 1000), held: map[string][]wsMessage{}, closed: make(chan websocket.CloseError, 1)}
	t.Cleanup(func() { _ = conn.CloseNow() })
	go c.read()
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(t, payload)})
	// Only msgs is waited on: a close both fills closed and closes msgs, and a select on the two
	// would take either when both are ready (a closed msgs reads as an empty message).
	select {
	case m, ok := <-c.msgs:
		if !ok {
			return nil, c.end
		}
		if m.Type != "connection_ack" {
			return nil, fmt.Errorf("first message %s, want connection_ack", m.Type)
		}
		return c, nil
	case <-time.After(waitFor):
		return nil, fmt.Errorf("no connection_ack")
	}
}

func (c *wsClient) read() {
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.end = err
			var ce websocket.CloseError
			if ok := asCloseError(err, &ce); ok {
				c.end = ce
				c.closed <- ce
			}
			close(c.msgs)
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		if m.Type == "ping" {
			c.send(wsMessage{Type: "pong"})
			continue
		}
		c.msgs <- m
	}
}

func asCloseError(err error, ce *websocket.CloseError) bool {
	status := websocket.CloseStatus(err)
	if status == -1 {
		return false
	}
	*ce = websocket.CloseError{Code: status, Reason: closeReason(err)}
	return true
}

func closeReason(err error) string {
	var ce websocket.CloseError
	if e, ok := err.(websocket.CloseError); ok {
		ce = e
	} else if s := err.Error(); strings.Contains(s, "reason = ") {
		return s[strings.Index(s, "reason = ")+len("reason = "):]
	}
	return ce.Reason
}

func (c *wsClient) send(m wsMessage) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_ = c.conn.Write(ctx, websocket.MessageText, b)
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.send(wsMessage{Type: "subscribe", ID: id, Payload: mustJSON(c.t, map[string]any{"query": query, "variables": vars})})
}

// next is the next message about subscription id (next, error or complete); messages about
// other subscriptions that come first are kept for them.
func (c *wsClient) next(id string) wsMessage {
	c.t.Helper()
	if q := c.held[id]; len(q) > 0 {
		c.held[id] = q[1:]
		return q[0]
	}
	timeout := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("the socket closed while waiting for %s: %v", id, c.end)
			}
			if m.ID == id {
				return m
			}
			c.held[m.ID] = append(c.held[m.ID], m)
		case <-timeout:
			c.t.Fatalf("no message for subscription %s", id)
		}
	}
}

// event is the data of the next message of id, which must be a next without errors.
func (c *wsClient) event(id string, into any) {
	c.t.Helper()
	m := c.next(id)
	if m.Type != "next" {
		c.t.Fatalf("subscription %s: %s %s, want next", id, m.Type, m.Payload)
	}
	var resp struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(m.Payload, &resp); err != nil || len(resp.Errors) > 0 {
		c.t.Fatalf("subscription %s: %s", id, m.Payload)
	}
	if err := json.Unmarshal(resp.Data, into); err != nil {
		c.t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The docs fixture's ids the tests edit.
const (
	docsReportA   = "3a3bea11-99ca-462d-86fb-d283db8d734a"
	docsReportB   = "23f37fcb-040d-4ee9-91df-1234700ebeb6"
	docsReportC   = "462e6deb-a7b4-4777-a494-389c495862b8"
	docsRunOfA    = "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d"
	docsResultOfB = "7dbc5ab2-c335-5d0c-a3cf-22cd1163a1b1"
)

func docsPath(parts ...string) string {
	return filepath.Join(append([]string{"identityGovernance", "lifecycleWorkflows", "workflows", docsWorkflow}, parts...)...)
}

// touchReports gives the reports ids a later lastUpdatedDateTime (minute), as Graph's next copy would.
func touchReports(t testing.TB, dir string, minute int, ids ...string) {
	msgraphtest.EditCollection(t, dir, docsPath("taskReports"), func(recs []map[string]any) []map[string]any {
		for _, r := range recs {
			for _, id := range ids {
				if r["id"] == id {
					r["lastUpdatedDateTime"] = fmt.Sprintf("2022-08-25T00:%02d:00.0000000Z", minute)
				}
			}
		}
		return recs
	})
}

// touchResult gives one result of report B a later completedDateTime.
func touchResult(t testing.TB, dir string) {
	msgraphtest.EditCollection(t, dir, docsPath("taskReports", docsReportB, "taskProcessingResults"), func(recs []map[string]any) []map[string]any {
		for _, r := range recs {
			if r["id"] == docsResultOfB {
				r["completedDateTime"] = "2022-08-24T23:29:00.0000000Z"
			}
		}
		return recs
	})
}

// importedCopy copies the docs fixture, imports it into store and returns the copy, for the
// test to edit and import again.
func importedCopy(t testing.TB, store *db.Store) string {
	t.Helper()
	dir := msgraphtest.CopyFixture(t, fixtureDir(t, "msgraph-docs-example"))
	importDir(t, store, dir)
	return dir
}

// mustDial is dialWS for a connection that must be accepted.
func mustDial(t testing.TB, url string, payload map[string]any) *wsClient {
	t.Helper()
	c, err := dialWS(t, url, nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func importDir(t testing.TB, store *db.Store, dir string) {
	t.Helper()
	if _, err := msgraph.ImportDir(context.Background(), store, dir); err != nil {
		t.Fatal(err)
	}
}

func liveServer(t testing.TB, store *db.Store, opts ...server.Option) *httptest.Server {
	srv := httptest.NewServer(server.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, opts...))
	t.Cleanup(srv.Close)
	return srv
}

const reportSub = `subscription($wf: ID, $after: String) { taskReportChanged(workflowId: $wf, after: $after) {
	cursor changedDateTime taskReport { id lastUpdatedDateTime successfulUsersCount task { displayName } taskDefinition { id } run { id } } } }`

type reportEvent struct {
	TaskReportChanged struct {
		Cursor          string
		ChangedDateTime string
		TaskReport      struct {
			ID                   string
			LastUpdatedDateTime  string
			SuccessfulUsersCount int
			Task                 struct{ DisplayName string }
			TaskDefinition       struct{ ID string }
			Run                  struct{ ID string }
		}
	}
}

const resultSub = `subscription($wf: ID) { taskProcessingResultChanged(workflowId: $wf) { cursor taskProcessingResult { id completedDateTime subject { id } taskReport { id } } } }`

type resultEvent struct {
	TaskProcessingResultChanged struct {
		Cursor               string
		TaskProcessingResult struct {
			ID, CompletedDateTime string
			Subject, TaskReport   struct{ ID string }
		}
	}
}

// TestSubscriptionsDeliverImportedChanges: an import that changes two reports and one result
// delivers exactly those events, with the objects resolved as a query resolves them; importing
// the same folder again delivers nothing (the next event is a later, different change).
func TestSubscriptionsDeliverImportedChanges(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		dir := importedCopy(t, store)
		srv := liveServer(t, store)
		c := mustDial(t, srv.URL, nil)
		c.subscribe("reports", reportSub, map[string]any{"wf": docsWorkflow})
		c.subscribe("results", resultSub, map[string]any{"wf": strings.ToUpper(docsWorkflow)})
		waitSubscribed(t, srv.URL, 2)

		touchReports(t, dir, 1, docsReportA, docsReportB)
		touchResult(t, dir)
		importDir(t, store, dir)

		got := map[string]reportEvent{}
		for range 2 {
			var ev reportEvent
			c.event("reports", &ev)
			got[ev.TaskReportChanged.TaskReport.ID] = ev
		}
		a, b := got[docsReportA].TaskReportChanged, got[docsReportB].TaskReportChanged
		if a.TaskReport.LastUpdatedDateTime != "2022-08-25T00:01:00.0000000Z" || b.TaskReport.LastUpdatedDateTime != "2022-08-25T00:01:00.0000000Z" {
			t.Fatalf("report events: %+v", got)
		}
		if a.TaskReport.Task.DisplayName != "Enable User Account" || a.TaskReport.TaskDefinition.ID != "6fc52c9d-398b-4305-9763-15f42c1676fc" ||
			a.TaskReport.Run.ID != docsRunOfA || a.TaskReport.SuccessfulUsersCount != 2 || a.Cursor == "" || a.ChangedDateTime == "" {
			t.Errorf("report A's event: %+v", a)
		}
		var r resultEvent
		c.event("results", &r)
		if res := r.TaskProcessingResultChanged.TaskProcessingResult; res.ID != docsResultOfB || res.CompletedDateTime != "2022-08-24T23:29:00.0000000Z" ||
			res.Subject.ID != "ea09ac2e-77e3-4134-85f2-25ccf3c33387" || res.TaskReport.ID != docsReportB {
			t.Errorf("result event: %+v", r)
		}

		// The same folder again changes nothing: the next report event is report C's later change.
		importDir(t, store, dir)
		touchReports(t, dir, 2, docsReportC)
		importDir(t, store, dir)
		var next reportEvent
		c.event("reports", &next)
		if next.TaskReportChanged.TaskReport.ID != docsReportC {
			t.Fatalf("after a re-import that changed nothing, the next event is %+v, want report C's", next)
		}
	})
}

// waitSubscribed waits until the server's /metrics counts n active subscriptions: from then on,
// every committed change reaches them.
// With --auth jwt, /metrics needs a token: authorization is its Authorization header.
func waitSubscribed(t testing.TB, srvURL string, n int, authorization ...string) {
	t.Helper()
	want := fmt.Sprintf("lcw_subscriptions_active %d\n", n)
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, srvURL+"/metrics", nil)
		for _, a := range authorization {
			req.Header.Set("Authorization", a)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %q", strings.TrimSpace(want))
}
