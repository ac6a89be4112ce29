package cli

import (
	"context"
	"errors"
	"time"

	"lcw-gateway/db"
)

type seedCmd struct {
	Workflows   int    `env:"LCW_SEED_WORKFLOWS" default:"6" help:"Workflows to generate (joiner, leaver and mover)."`
	Runs        int    `env:"LCW_SEED_RUNS" default:"12" help:"Runs per workflow, over the last 8 weeks."`
	Users       int    `env:"LCW_SEED_USERS" default:"40" help:"Users in the tenant."`
	UsersPerRun int    `name:"users-per-run" env:"LCW_SEED_USERS_PER_RUN" default:"0" help:"Users one run processes on average (0: a quarter of --users)."`
	Results     int    `env:"LCW_SEED_RESULTS" default:"0" help:"Size the data set for about this many task processing results instead (e.g. 1000000); overrides the three above."`
	Seed        int64  `name:"random-seed" env:"LCW_SEED_RANDOM_SEED" default:"1" help:"Varies names, ids and outcomes; the same seed gives the same data."`
	TenantID    string `name:"tenant-id" env:"LCW_TENANT_ID" default:"default" help:"Tenant the generated records belong to."`
}

func (c *seedCmd) Run(env *runEnv) error {
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	opts := db.DemoOptions{Workflows: c.Workflows, RunsPerWorkflow: c.Runs, Users: c.Users, UsersPerRun: c.UsersPerRun}
	if c.Results > 0 {
		opts = db.DemoOptionsForResults(c.Results)
	}
	opts.Seed = c.Seed
	ctx := db.WithTenant(env.ctx, db.StoredTenantID(c.TenantID))
	if has, err := store.HasWorkflows(ctx); err != nil {
		return err
	} else if has {
		return errors.New("the tenant already holds workflows: seed a new database or another --tenant-id")
	}
	return seed(ctx, env, store, opts)
}

// seedIfEmpty fills a database that holds no workflows with the default demo data set.
func seedIfEmpty(env *runEnv, store *db.Store) error {
	if has, err := store.HasWorkflows(env.ctx); err != nil || has {
		return err
	}
	return seed(env.ctx, env, store, db.DemoOptions{Seed: 1})
}

func seed(ctx context.Context, env *runEnv, store *db.Store, opts db.DemoOptions) error {
	start := time.Now()
	progress := newProgress(env.logger, "generating demo data", "rows")
	stats, err := store.SeedDemo(ctx, opts, progress.Report)
	progress.Finish()
	if err != nil {
		return err
	}
	env.logger.Info("demo data ready", "duration", time.Since(start).Round(time.Millisecond), "workflows", stats.Workflows,
		"runs", stats.Runs, "taskReports", stats.TaskReports, "taskProcessingResults", stats.TaskProcessingResults, "users", stats.Users)
	return nil
}
