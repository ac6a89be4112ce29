package server

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lcw-gateway/auth"
	"lcw-gateway/endpoint"
)

// httpMetrics is the request latency histogram.
type httpMetrics struct {
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lcw_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route and status.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"route", "status"})}
	reg.MustRegister(m.duration)
	return m
}

// routeObservers are a route's histograms by status, looked up once per status rather than per
// request (WithLabelValues hashes the labels and takes a lock).
type routeObservers struct {
	route string
	vec   *prometheus.HistogramVec
	mu    sync.RWMutex
	by    map[int]prometheus.Observer
}

func (o *routeObservers) of(status int) prometheus.Observer {
	o.mu.RLock()
	h, ok := o.by[status]
	o.mu.RUnlock()
	if ok {
		return h
	}
	h = o.vec.WithLabelValues(o.route, strconv.Itoa(status))
	o.mu.Lock()
	o.by[status] = h
	o.mu.Unlock()
	return h
}

// observe starts the request's time limit as it arrives (endpoint.RequestDeadline: reading the
// body, authenticating, parsing and validating count against it; not for subscription streams),
// gives each request an id (returned in X-Request-Id and named in internal errors), writes one
// log line per request (id, operation, duration, status, principal and tenant, never the token)
// and records its latency under route. Id and log fields travel in one context value, and the
// request is copied once for all of it.
func observe(route string, logger *slog.Logger, m *httpMetrics, policy *endpoint.Policy, next http.Handler) http.Handler {
	hist := &routeObservers{route: route, vec: m.duration, by: map[int]prometheus.Observer{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &endpoint.RequestInfo{ID: newRequestID()}
		// The RequestInfo first: the deadline keeps its limit there rather than in a context value.
		ctx, cancel := endpoint.RequestDeadline(endpoint.WithRequestInfo(r.Context(), info), policy, r)
		defer cancel()
		w.Header()["X-Request-Id"] = []string{info.ID}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		elapsed := time.Since(start)
		hist.of(rec.status).Observe(elapsed.Seconds())
		if logger.Enabled(ctx, slog.LevelInfo) { // the attributes cost allocations: none when the line is off
			logRequest(ctx, logger, info, r, rec.status, elapsed)
		}
	})
}

func logRequest(ctx context.Context, logger *slog.Logger, info *endpoint.RequestInfo, r *http.Request, status int, elapsed time.Duration) {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("request_id", info.ID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
	attrs = info.AppendLogAttrs(attrs)
	logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// newRequestID is 16 hex digits. A request id names a request in the logs and is no secret, so
// it comes from the runtime's per-thread generator rather than a system call to crypto/rand.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// recordPrincipal copies the authenticated principal into the request's log fields; it runs
// inside the auth guard, where the principal is known.
func recordPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := auth.PrincipalFrom(r.Context()); ok {
			if info := endpoint.RequestInfoFrom(r.Context()); info != nil {
				info.SetPrincipal(p.ID, p.TenantID)
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
