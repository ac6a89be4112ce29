// Package server is the gateway's HTTP face: the mux of the user-facing contract (/graphql,
// GraphiQL, /healthz, /readyz, /metrics), request ids, request logging and metrics, tracing, and
// the http.Server that serves it with graceful shutdown.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"lcw-gateway/actions"
	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/endpoint"
	"lcw-gateway/live"
	"lcw-gateway/web"
)

// Addon is something the server serves besides the API (the background sync): metrics, and a
// line on /readyz.
type Addon interface {
	Collectors() []prometheus.Collector
	Readiness() string
}

// config is what New serves besides the API.
type config struct {
	addons []Addon
	tracer trace.TracerProvider
	policy *endpoint.Policy // nil: endpoint.DefaultPolicy()
	live   live.Config
	// metrics, when set, serves /metrics instead of the main mux (--metrics-addr).
	metrics *http.ServeMux
	actions *actions.Service
}

// Option adds to what New serves.
type Option func(*config)

// WithAddons registers the addons' metrics and their lines on /readyz.
func WithAddons(addons ...Addon) Option {
	return func(c *config) { c.addons = append(c.addons, addons...) }
}

// WithTracer traces each GraphQL request and operation.
func WithTracer(tp trace.TracerProvider) Option { return func(c *config) { c.tracer = tp } }

// WithPolicy serves /graphql (and GraphiQL, or not) as the serve flags of endpoint.Policy say.
func WithPolicy(p endpoint.Policy) Option { return func(c *config) { c.policy = &p } }

// WithLive sets the limits of subscriptions (live.DefaultConfig() without it).
func WithLive(c live.Config) Option { return func(cfg *config) { cfg.live = c } }

// WithActions runs the mutations (without it they are refused).
func WithActions(a *actions.Service) Option { return func(c *config) { c.actions = a } }

// WithMetricsMux serves /metrics on mux (a listener of its own) instead of the main one.
func WithMetricsMux(mux *http.ServeMux) Option { return func(c *config) { c.metrics = mux } }

// New wires the endpoints of the user-facing contract; guard (nil: none) protects /graphql and,
// with --auth jwt, /metrics, and with --auth none refuses foreign Host names on every route.
func New(store *db.Store, logger *slog.Logger, guard *auth.Guard, opts ...Option) http.Handler {
	cfg := config{tracer: noop.NewTracerProvider(), live: live.DefaultConfig()}
	for _, o := range opts {
		o(&cfg)
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lcw_sql_statements_total",
			Help: "SQL statements the gateway sent to its database.",
		}, func() float64 { return float64(store.Statements()) }))
	if sqlDB, err := store.SQL(); err == nil {
		registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, "lcw"))
	}
	metrics := newHTTPMetrics(registry)
	for _, a := range cfg.addons {
		registry.MustRegister(a.Collectors()...)
	}

	broker := live.New(store, cfg.live, logger)
	registry.MustRegister(broker.Collectors()...)

	mux := http.NewServeMux()
	api := recordPrincipal(endpoint.NewHandler(store, logger, endpoint.Options{Metrics: registry, Tracer: cfg.tracer, Policy: cfg.policy, Live: broker, Auth: guard, Actions: cfg.actions}))
	if guard != nil {
		api = endpoint.Guarded(guard, broker, api)
	}
	api = cfg.policy.CORS(api)
	if _, off := cfg.tracer.(noop.TracerProvider); !off { // with tracing off the wrapper costs ~9% of a lookup's CPU for nothing
		api = otelhttp.NewHandler(api, "POST /graphql", otelhttp.WithTracerProvider(cfg.tracer))
	}
	mux.Handle("/graphql", observe("/graphql", logger, metrics, cfg.policy, api))
	if cfg.policy.ServesGraphiQL() {
		mux.Handle("GET /{$}", web.GraphiQLHandler("/graphql"))
		mux.Handle("GET "+web.AssetsPath, web.AssetsHandler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
		for _, a := range cfg.addons {
			_, _ = fmt.Fprintln(w, a.Readiness())
		}
	})
	var metricsHandler http.Handler = promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	switch {
	case cfg.metrics != nil:
		cfg.metrics.Handle("GET /metrics", metricsHandler)
	case guard != nil && guard.RequiresToken():
		// The metrics name operations and count errors of every tenant: not for anonymous eyes.
		mux.Handle("GET /metrics", guard.Middleware(metricsHandler))
	default:
		mux.Handle("GET /metrics", metricsHandler)
	}
	var root http.Handler = mux
	if guard != nil {
		root = guard.CheckHost(root)
	}
	return web.SecurityHeaders(root) // every response, error pages and refusals included
}
