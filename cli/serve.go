package cli

import (
	"context"
	"net"
	"net/http"
	"os"

	"lcw-gateway/actions"
	"lcw-gateway/auth"
	"lcw-gateway/endpoint"
	"lcw-gateway/gctune"
	"lcw-gateway/live"
	"lcw-gateway/server"
	"lcw-gateway/syncer"
	tenantctx "lcw-gateway/tenant"
	"lcw-gateway/web"
)

type serveCmd struct {
	Addr    string                 `env:"LCW_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	Seed    string                 `env:"LCW_SEED" enum:"demo,none" default:"demo" help:"Fill a database that holds no workflows with demo data first (demo or none)."`
	Auth    auth.Config            `embed:""`
	Sync    syncer.BackgroundFlags `embed:""`
	Tracing server.TracingFlags    `embed:""`
	Policy  endpoint.Policy        `embed:""`
	Live    live.Config            `embed:""`
	Limits  server.Limits          `embed:""`
	Actions actions.Config         `embed:""`
	// MetricsAddr moves /metrics to a listener of its own, for a scraper on a private network.
	MetricsAddr string `name:"metrics-addr" env:"LCW_METRICS_ADDR" help:"Serve /metrics on this address instead of the main one (where, with --auth jwt, it needs a token)."`
	// PprofAddr profiles a running gateway under real load (issue 12); loopback only, since
	// profiles show queries, and off unless asked for.
	PprofAddr string `name:"pprof-addr" env:"LCW_PPROF_ADDR" help:"Serve Go's profiler (net/http/pprof, /debug/pprof/) on this loopback address; off when empty."`
	// GCHeapTarget lets the collector run less often while the heap is small (gctune).
	GCHeapTarget endpoint.ByteSize `name:"gc-heap-target" env:"LCW_GC_HEAP_TARGET" default:"48MiB" help:"Soft memory target of the garbage collector: GOGC 200 under it as a memory limit while twice the live heap fits in it, else the runtime's 100 and no limit (0: the runtime's default; GOGC or GOMEMLIMIT in the environment win)."`
}

func (c *serveCmd) Run(env *runEnv) error {
	if err := c.Auth.CheckAddr(c.Addr); err != nil {
		return err
	}
	if err := checkLoopback("--pprof-addr", c.PprofAddr); err != nil {
		return err
	}
	defer gctune.Start(int64(c.GCHeapTarget), os.Getenv).Stop()
	guard, err := auth.New(env.ctx, c.Auth, env.logger)
	if err != nil {
		return err
	}
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	// With --auth none every request is answered from this one tenant.
	tenant := c.Sync.Graph.StoredTenant()
	// Demo data goes only into the tenant default of an empty database: it must neither mix with
	// synced data nor hide it.
	if c.Seed == "demo" && !c.Sync.Enabled() && tenant == tenantctx.Default {
		if err := seedIfEmpty(env, store); err != nil {
			return err
		}
	}
	if c.Auth.Mode == "none" && !c.Sync.Enabled() { // a background sync would fill an empty tenant soon
		if err := pointToTheData(env, store, tenant); err != nil {
			return err
		}
	}
	loop, err := c.Sync.Start(env.ctx, env.logger, store)
	if err != nil {
		return err
	}
	defer loop.Stop()
	acts, err := actions.New(c.Actions, actions.Options{Graph: c.Sync.Graph, AuthOn: c.Auth.Mode == "jwt", Store: store,
		Resync: resyncer(loop), Logger: env.logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	tp, flush, err := server.TracerProvider(env.ctx, c.Tracing.OTLPEndpoint)
	if err != nil {
		return err
	}
	defer func() { _ = flush(context.Background()) }()
	go live.Prune(env.ctx, store, c.Live.Retention, env.logger)
	opts := []server.Option{server.WithTracer(tp), server.WithPolicy(c.Policy), server.WithLive(c.Live), server.WithActions(acts)}
	if loop != nil {
		opts = append(opts, server.WithAddons(loop))
	}
	limits := c.Limits.Fit(c.Policy.RequestTimeout)
	metricsErr := make(chan error, 1)
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		opts = append(opts, server.WithMetricsMux(mux))
		go func() { metricsErr <- server.Serve(env.ctx, mln, mux, env.logger, limits) }()
		env.logger.Info("serving metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	if c.PprofAddr != "" {
		if err := servePprof(env, c.PprofAddr); err != nil {
			return err
		}
	}
	h := server.New(store, env.logger, guard, opts...)
	if c.Auth.Mode == "none" {
		h = servingTenant(h, tenant)
	}
	env.logger.Info("serving GraphQL", "url", "http://"+ln.Addr().String()+"/", "db", redactDSN(env.db.DSN))
	if c.Policy.ServesGraphiQL() && !web.AssetsBuiltIn() {
		env.logger.Warn("GraphiQL's offline assets are not built in: / loads them from cdn.jsdelivr.net; go generate ./web builds them in")
	}
	if err := server.Serve(env.ctx, ln, h, env.logger, limits); err != nil {
		return err
	}
	if c.MetricsAddr != "" {
		return <-metricsErr
	}
	return nil
}

// resyncer is the loop as the actions' re-sync, or nil without a background sync (a nil *Loop
// in the interface would not be nil).
func resyncer(loop *syncer.Loop) actions.Resyncer {
	if loop == nil {
		return nil
	}
	return loop
}
