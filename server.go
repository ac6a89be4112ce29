// Command lcw-gateway serves Microsoft Graph Lifecycle Workflows task reports over GraphQL.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/graph"
	"lcw-gateway/web"
)

// cli is the command line; every flag has an LCW_ environment twin.
type cli struct {
	Database  dbFlags `embed:""`
	LogFormat string  `name:"log-format" env:"LCW_LOG_FORMAT" enum:"text,json" default:"text" help:"Log lines as text or JSON (text or json)."`
	LogLevel  string  `name:"log-level" env:"LCW_LOG_LEVEL" enum:"debug,info,warn,error" default:"info" help:"Least severe level logged (debug, info, warn, error)."`

	Serve   serveCmd   `cmd:"" default:"withargs" help:"Serve GraphQL (the default command)."`
	Import  importCmd  `cmd:"" help:"Load a folder of saved Microsoft Graph responses, laid out by URL path."`
	Sync    syncCmd    `cmd:"" help:"Pull workflows, runs, task reports and results from Microsoft Graph (see docs/sync.md)."`
	Seed    seedCmd    `cmd:"" help:"Fill the database with generated demo data."`
	Schema  schemaCmd  `cmd:"" help:"Print the GraphQL schema (SDL)."`
	Migrate migrateCmd `cmd:"" help:"Apply pending database migrations and exit (serve applies them too)."`
}

// dbFlags say how to reach the database; every command takes them.
type dbFlags struct {
	DB              string        `name:"db" env:"LCW_DB" default:"lcw.db" help:"SQLite file path, or a postgres:// URL."`
	DBRead          string        `name:"db-read" env:"LCW_DB_READ" help:"postgres:// URL of a read replica: queries go there, imports to --db."`
	MaxOpenConns    int           `name:"db-max-open-conns" env:"LCW_DB_MAX_OPEN_CONNS" default:"0" help:"Most open connections (0: 4 × GOMAXPROCS for PostgreSQL, 8 for SQLite); a read that finds none free before its time limit gets SERVICE_UNAVAILABLE."`
	MaxIdleConns    int           `name:"db-max-idle-conns" env:"LCW_DB_MAX_IDLE_CONNS" default:"0" help:"Most idle connections kept in the pool (0: as many as may be open, so load never closes and reopens them)."`
	ConnMaxLifetime time.Duration `name:"db-conn-max-lifetime" env:"LCW_DB_CONN_MAX_LIFETIME" default:"1h" help:"Close connections older than this (0: never)."`
	ConnMaxIdleTime time.Duration `name:"db-conn-max-idle-time" env:"LCW_DB_CONN_MAX_IDLE_TIME" default:"30m" help:"Close connections idle longer than this (0: never)."`
}

func (f dbFlags) config() db.Config {
	return db.Config{DSN: f.DB, ReadDSN: f.DBRead, MaxOpenConns: f.MaxOpenConns, MaxIdleConns: f.MaxIdleConns,
		ConnMaxLifetime: f.ConnMaxLifetime, ConnMaxIdleTime: f.ConnMaxIdleTime}
}

type serveCmd struct {
	Addr    string       `env:"LCW_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	Seed    string       `env:"LCW_SEED" enum:"demo,none" default:"demo" help:"Fill a database that holds no workflows with demo data first (demo or none)."`
	Auth    auth.Config  `embed:""`
	Sync    serveSync    `embed:""`
	Tracing tracingFlags `embed:""`
	Policy  graph.Policy `embed:""`
}

func main() {
	var c cli
	ctx := kong.Parse(&c, kong.Name("lcw-gateway"),
		kong.Description("A GraphQL gateway over Microsoft Graph Lifecycle Workflows task reports."),
		kong.UsageOnError(), kong.Help(helpPrinter))
	logger := newLogger(c.LogFormat, c.LogLevel)
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ctx.Run(&runEnv{ctx: sigCtx, db: c.Database.config(), logger: logger}); err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
}

func newLogger(format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level)) // kong has checked it against the enum
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// runEnv is what every subcommand gets.
type runEnv struct {
	ctx    context.Context
	db     db.Config
	logger *slog.Logger
}

// open opens the database as the flags say.
func (env *runEnv) open() (*db.Store, error) { return db.OpenWith(env.ctx, env.db) }

func (c *serveCmd) Run(env *runEnv) error {
	if err := c.Auth.CheckAddr(c.Addr); err != nil {
		return err
	}
	guard, err := auth.New(env.ctx, c.Auth, env.logger)
	if err != nil {
		return err
	}
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	if c.Seed == "demo" && !c.Sync.enabled() { // demo data must not mix with synced data
		if err := seedIfEmpty(env, store); err != nil {
			return err
		}
	}
	loop, err := c.Sync.start(env, store)
	if err != nil {
		return err
	}
	defer loop.stop()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	tp, flush, err := tracerProvider(env.ctx, c.Tracing.OTLPEndpoint)
	if err != nil {
		return err
	}
	defer func() { _ = flush(context.Background()) }()
	mux := newMux(store, env.logger, guard, withAddons(loop.addons()...), withTracer(tp), withPolicy(c.Policy))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	env.logger.Info("serving GraphQL", "url", "http://"+ln.Addr().String()+"/", "db", redactDSN(env.db.DSN))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-env.ctx.Done():
	}
	// Graceful shutdown: stop accepting, let requests in flight finish.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	env.logger.Info("shutting down")
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// muxConfig is what newMux serves besides the API.
type muxConfig struct {
	addons []muxAddon
	tracer trace.TracerProvider
	policy *graph.Policy // nil: graph.DefaultPolicy()
}

// muxOption adds to what newMux serves.
type muxOption func(*muxConfig)

// withAddons registers the addons' metrics and their lines on /readyz.
func withAddons(addons ...muxAddon) muxOption {
	return func(c *muxConfig) { c.addons = append(c.addons, addons...) }
}

// withTracer traces each GraphQL request and operation.
func withTracer(tp trace.TracerProvider) muxOption { return func(c *muxConfig) { c.tracer = tp } }

// newMux wires the endpoints of the user-facing contract; guard (nil: none) protects /graphql.
func newMux(store *db.Store, logger *slog.Logger, guard *auth.Guard, opts ...muxOption) http.Handler {
	cfg := muxConfig{tracer: noop.NewTracerProvider()}
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
		registry.MustRegister(a.collectors()...)
	}

	mux := http.NewServeMux()
	api := recordPrincipal(graph.NewHandler(store, logger, graph.Options{Metrics: registry, Tracer: cfg.tracer, Policy: cfg.policy}))
	if guard != nil {
		api = guard.Middleware(api)
	}
	api = cfg.policy.CORS(api)
	api = otelhttp.NewHandler(api, "POST /graphql", otelhttp.WithTracerProvider(cfg.tracer))
	mux.Handle("/graphql", withRequestID(observe("/graphql", logger, metrics, api)))
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
			_, _ = fmt.Fprintln(w, a.readiness())
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	return mux
}

// withRequestID gives each request an id, returned in X-Request-Id and named in internal errors.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(graph.WithRequestID(r.Context(), id)))
	})
}

func (c *schemaCmd) Run(env *runEnv) error {
	_, err := os.Stdout.WriteString(graph.SDL())
	return err
}

type schemaCmd struct{}

type migrateCmd struct{}

func (c *migrateCmd) Run(env *runEnv) error {
	store, err := env.open() // opening applies the pending migrations
	if err != nil {
		return err
	}
	env.logger.Info("database is up to date", "db", redactDSN(env.db.DSN))
	return store.Close()
}

// redactDSN hides a password in a postgres:// URL before it is logged.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
