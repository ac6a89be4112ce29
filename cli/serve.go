package cli

import (
	"context"
	"net"

	"lcw-gateway/auth"
	"lcw-gateway/endpoint"
	"lcw-gateway/server"
	"lcw-gateway/syncer"
)

type serveCmd struct {
	Addr    string                 `env:"LCW_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	Seed    string                 `env:"LCW_SEED" enum:"demo,none" default:"demo" help:"Fill a database that holds no workflows with demo data first (demo or none)."`
	Auth    auth.Config            `embed:""`
	Sync    syncer.BackgroundFlags `embed:""`
	Tracing server.TracingFlags    `embed:""`
	Policy  endpoint.Policy        `embed:""`
}

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
	if c.Seed == "demo" && !c.Sync.Enabled() { // demo data must not mix with synced data
		if err := seedIfEmpty(env, store); err != nil {
			return err
		}
	}
	loop, err := c.Sync.Start(env.ctx, env.logger, store)
	if err != nil {
		return err
	}
	defer loop.Stop()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	tp, flush, err := server.TracerProvider(env.ctx, c.Tracing.OTLPEndpoint)
	if err != nil {
		return err
	}
	defer func() { _ = flush(context.Background()) }()
	opts := []server.Option{server.WithTracer(tp), server.WithPolicy(c.Policy)}
	if loop != nil {
		opts = append(opts, server.WithAddons(loop))
	}
	h := server.New(store, env.logger, guard, opts...)
	env.logger.Info("serving GraphQL", "url", "http://"+ln.Addr().String()+"/", "db", redactDSN(env.db.DSN))
	return server.Serve(env.ctx, ln, h, env.logger)
}
