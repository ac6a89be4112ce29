package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"

	"lcw-gateway/errcode"
)

// logSink is a log sink the server's goroutines can write to while the test reads it.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// serveOnLoopback serves h on a loopback port until the test ends.
func serveOnLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/graphql"
}

// Every field of a request fails for one cause: the time limit runs out while each displayName
// waits, or each displayName meets the same broken database. The client gets one error, the log
// one line.
func TestOneErrorPerCause(t *testing.T) {
	var failed atomic.Int64
	hook := handler.FieldFunc(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if graphql.GetFieldContext(ctx).Field.Name != "displayName" {
			return next(ctx)
		}
		failed.Add(1)
		switch graphql.GetOperationContext(ctx).Operation.Name {
		case "Slow":
			<-ctx.Done()
			return nil, ctx.Err()
		case "Broken":
			return nil, errors.New("driver: bad connection to 10.0.0.7:5432")
		}
		return next(ctx)
	})
	logs := &logSink{}
	p := DefaultPolicy()
	p.RequestTimeout = 300 * time.Millisecond
	url := serveOnLoopback(t, newHandler(seededStore(t), slog.New(slog.NewTextHandler(logs, nil)), Options{Policy: &p}, hook))

	for _, tc := range []struct{ op, code string }{{"Slow", errcode.LimitExceeded}, {"Broken", errcode.Internal}} {
		failed.Store(0)
		body, _ := json.Marshal(map[string]string{"query": "query " + tc.op + " { workflows { nodes { displayName tasks { displayName } } } }"})
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var r reply
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if failed.Load() < 2 {
			t.Fatalf("%s: only %d fields failed; the test needs several", tc.op, failed.Load())
		}
		if len(r.Errors) != 1 || r.code() != tc.code {
			t.Errorf("%s: %d fields failed, %d errors in the response (want one %s): %+v", tc.op, failed.Load(), len(r.Errors), tc.code, r.Errors)
		}
	}
	if n := strings.Count(logs.String(), "internal error"); n != 1 {
		t.Errorf("%d log lines of the broken database, want one:\n%s", n, logs)
	}
}
