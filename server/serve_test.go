package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"lcw-gateway/server"
)

// serve runs h with limits on a loopback port until the test ends and returns its address.
func serve(t *testing.T, h http.Handler, limits server.Limits) string {
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
	return ln.Addr().String()
}

// closedByServer waits (at most the given bound, which only stops a broken test) for the server
// to close conn, reading and dropping whatever it still sends.
func closedByServer(t *testing.T, conn net.Conn, bound time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(bound))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after %s", bound)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	limits := server.DefaultLimits()
	limits.IdleTimeout = 200 * time.Millisecond
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive request: %v %+v", err, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	closedByServer(t, conn, 10*time.Second)
}

func TestSlowBodyIsCut(t *testing.T) {
	limits := server.DefaultLimits()
	limits.ReadTimeout = 300 * time.Millisecond
	bodyErr := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		bodyErr <- err
	}), limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ten bytes of a hundred, then nothing: the slowloris way of holding a connection.
	_, _ = io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
	select {
	case err := <-bodyErr:
		if err == nil {
			t.Fatal("the handler read a whole body that was never sent")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the body read was not cut")
	}
	closedByServer(t, conn, 10*time.Second)
}

// A client that sends a request and never reads its answer holds the handler, and the response
// it is writing, only until the write timeout.
func TestNonReadingClientIsCut(t *testing.T) {
	limits := server.DefaultLimits()
	limits.WriteTimeout = 300 * time.Millisecond
	const total = 256 << 20 // far more than the socket buffers on both sides take
	var written atomic.Int64
	returned := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for written.Load() < total {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				returned <- err
				return
			}
		}
		returned <- nil
	}), limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
	select {
	case err := <-returned:
		if err == nil {
			t.Fatalf("the whole response (%d bytes) went to a client that reads nothing", total)
		}
		t.Logf("the handler gave up after %d MiB: %v", written.Load()>>20, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the handler is still writing to a client that reads nothing (%d MiB written)", written.Load()>>20)
	}
}

func TestInFlightCap(t *testing.T) {
	limits := server.DefaultLimits()
	limits.MaxInFlight = 2
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}), limits)
	defer close(release)
	for range 2 {
		go func() {
			if resp, err := http.Get("http://" + addr + "/slow"); err == nil {
				resp.Body.Close()
			}
		}()
		<-entered
	}
	resp, err := http.Get("http://" + addr + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"limit":"max-in-flight"`) {
		t.Fatalf("beyond the cap: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s at the cap: %d", probe, resp.StatusCode)
		}
	}
}

func TestLimitsFlags(t *testing.T) {
	rt := reflect.TypeFor[server.Limits]()
	for i := range rt.NumField() {
		if env := rt.Field(i).Tag.Get("env"); env != "" {
			t.Setenv(env, "")
			_ = os.Unsetenv(env)
		}
	}
	parse := func(args ...string) (server.Limits, error) {
		var c struct {
			Limits server.Limits `embed:""`
		}
		parser, err := kong.New(&c, kong.Exit(func(int) {}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = parser.Parse(args)
		return c.Limits, err
	}
	l, err := parse()
	if err != nil || l != server.DefaultLimits() {
		t.Fatalf("flags' defaults %+v (%v), DefaultLimits() %+v", l, err, server.DefaultLimits())
	}
	t.Setenv("LCW_MAX_IN_FLIGHT", "7")
	if l, err = parse("--write-timeout=3s"); err != nil || l.MaxInFlight != 7 || l.WriteTimeout != 3*time.Second {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := parse("--idle-timeout=-1s"); err == nil {
		t.Error("a negative timeout was taken")
	}
	if got := l.Fit(10 * time.Second).WriteTimeout; got != 15*time.Second {
		t.Errorf("write timeout fitted to a 10s GraphQL limit: %s", got)
	}
	if got := fmt.Sprint(server.DefaultLimits().Fit(0).WriteTimeout); got != "20s" {
		t.Errorf("without a GraphQL limit the write timeout changed to %s", got)
	}
}
