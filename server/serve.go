package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"lcw-gateway/errcode"
)

// Limits bound what a client can hold of the server: a connection's time to send its request, to
// take its response and to sit idle, and the requests served at once. serve embeds them, so each
// is a flag with an LCW_ environment twin.
type Limits struct {
	ReadTimeout  time.Duration `name:"read-timeout" env:"LCW_READ_TIMEOUT" default:"15s" help:"Longest time to read a request, headers and body; a slower client is disconnected (0: no limit)."`
	WriteTimeout time.Duration `name:"write-timeout" env:"LCW_WRITE_TIMEOUT" default:"20s" help:"Longest time from the end of a request's headers to the end of its response; a client that does not read is disconnected then. Never less than --graphql-timeout plus 5s (0: no limit)."`
	IdleTimeout  time.Duration `name:"idle-timeout" env:"LCW_IDLE_TIMEOUT" default:"60s" help:"How long an idle keep-alive connection stays open (0: as long as --read-timeout)."`
	MaxInFlight  int           `name:"max-in-flight" env:"LCW_MAX_IN_FLIGHT" default:"256" help:"Most requests served at once; more get 503 with Retry-After at once, /healthz and /readyz excepted (0: no limit)."`
}

// DefaultLimits are the flags' defaults; a test keeps the two equal.
func DefaultLimits() Limits {
	return Limits{ReadTimeout: 15 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, MaxInFlight: 256}
}

// writeMargin is what a response needs after the GraphQL time limit: the error to encode and send.
const writeMargin = 5 * time.Second

// Fit raises the write timeout to the GraphQL time limit plus a margin, so a request that uses
// its whole time still gets its answer (a timeout error) rather than a closed connection.
func (l Limits) Fit(requestTimeout time.Duration) Limits {
	if l.WriteTimeout > 0 && requestTimeout > 0 {
		l.WriteTimeout = max(l.WriteTimeout, requestTimeout+writeMargin)
	}
	return l
}

// Validate refuses negative limits (kong calls it after parsing).
func (l Limits) Validate() error {
	if l.ReadTimeout < 0 || l.WriteTimeout < 0 || l.IdleTimeout < 0 || l.MaxInFlight < 0 {
		return errors.New("--read-timeout, --write-timeout, --idle-timeout and --max-in-flight must not be negative (0 switches one off)")
	}
	return nil
}

// Serve answers on ln with h until ctx ends, then shuts down gracefully: it stops accepting and
// lets the requests in flight finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, limits Limits) error {
	srv := &http.Server{
		Handler:           capInFlight(limits.MaxInFlight, h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if limits.ReadTimeout > 0 {
		srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, limits.ReadTimeout)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	logger.Info("shutting down")
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// capInFlight serves at most n requests at once and answers the others 503 at once: queueing
// them would only hold their connections and memory while the ones in flight slow down. The
// probes are never refused: a busy gateway is alive.
func capInFlight(n int, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":[{"message":"the gateway is serving its most requests at once (` + strconv.Itoa(n) +
				`); retry after the time in Retry-After","extensions":{"code":"` + errcode.LimitExceeded + `","limit":"max-in-flight","max":` + strconv.Itoa(n) + `}}]}`))
		}
	})
}
