package server

import (
	"log/slog"
	"net/http"
	"strconv"
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

// observe writes one log line per request (id, operation, duration, status, principal and tenant,
// never the token) and records its latency under route.
func observe(route string, logger *slog.Logger, m *httpMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &endpoint.RequestInfo{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(endpoint.WithRequestInfo(r.Context(), info)))
		elapsed := time.Since(start)
		m.duration.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(elapsed.Seconds())
		attrs := append([]any{"request_id", endpoint.RequestID(r.Context()), "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", float64(elapsed.Microseconds()) / 1000}, info.LogAttrs()...)
		logger.InfoContext(r.Context(), "request", attrs...)
	})
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
