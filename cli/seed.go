package cli

import (
	"context"
	"fmt"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/demo"
	"lcw-gateway/tenant"
)

type seedCmd struct {
	Workflows   int    `env:"LCW_SEED_WORKFLOWS" default:"6" help:"Workflows to generate (joiner, leaver and mover)."`
	Runs        int    `env:"LCW_SEED_RUNS" default:"12" help:"Runs per workflow, over the last 8 weeks."`
	Users       int    `env:"LCW_SEED_USERS" default:"40" help:"Users in the tenant."`
	UsersPerRun int    `name:"users-per-run" env:"LCW_SEED_USERS_PER_RUN" default:"0" help:"Users one run processes on average (0: a quarter of --users)."`
	Results     int    `env:"LCW_SEED_RESULTS" default:"0" help:"Size the data set for about this many task processing results instead (e.g. 1000000); overrides the three above."`
	Seed        int64  `name:"random-seed" env:"LCW_SEED_RANDOM_SEED" default:"0" help:"Varies names, ids and outcomes; the same seed gives the same data (0: the first of 1, 2, 3, ... whose data set the tenant does not hold yet)."`
	TenantID    string `name:"tenant-id" env:"LCW_TENANT_ID" default:"default" help:"Tenant the generated records belong to; serve with --auth none answers from the same --tenant-id."`
}

func (c *seedCmd) Run(env *runEnv) error {
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	opts := demo.Options{Workflows: c.Workflows, RunsPerWorkflow: c.Runs, Users: c.Users, UsersPerRun: c.UsersPerRun}
	if c.Results > 0 {
		opts = demo.OptionsForResults(c.Results)
	}
	ctx := tenant.WithTenant(env.ctx, tenant.StoredID(c.TenantID))
	if opts.Seed, err = c.randomSeed(ctx, store); err != nil {
		return err
	}
	return seed(ctx, env, store, opts)
}

// randomSeed picks the data set to add: --random-seed when the tenant does not hold it yet, else
// the first seed whose set it does not hold. A tenant that holds workflows of no demo data set
// holds imported or synced data: demo data goes into it only when --random-seed asks for it.
func (c *seedCmd) randomSeed(ctx context.Context, store *db.Store) (int64, error) {
	tenant := tenant.From(ctx)
	if c.Seed != 0 {
		if has, err := demo.HasDataSet(ctx, store, c.Seed); err != nil || !has {
			return c.Seed, err
		}
		return 0, fmt.Errorf("tenant %s already holds the demo data set of --random-seed %d: leave --random-seed out to add the next data set, or give another seed", tenant, c.Seed)
	}
	for n := int64(1); ; n++ {
		has, err := demo.HasDataSet(ctx, store, n)
		if err != nil {
			return 0, err
		}
		if has {
			continue
		}
		if n == 1 {
			if hasAny, err := store.HasWorkflows(ctx); err != nil {
				return 0, err
			} else if hasAny {
				return 0, fmt.Errorf("tenant %s holds workflows that seed did not make (imported or synced): to keep demo data apart, seed another tenant (--tenant-id demo, then serve it with --tenant-id demo) or another --db; --random-seed N adds to this tenant anyway", tenant)
			}
		}
		return n, nil
	}
}

// seedIfEmpty fills a database that holds no workflows, in no tenant, with the default demo data
// set: data that sync or import stored under another tenant is not hidden behind demo data.
func seedIfEmpty(env *runEnv, store *db.Store) error {
	if tenants, err := store.TenantsWithWorkflows(env.ctx); err != nil || len(tenants) > 0 {
		return err
	}
	return seed(env.ctx, env, store, demo.Options{Seed: 1})
}

func seed(ctx context.Context, env *runEnv, store *db.Store, opts demo.Options) error {
	start := time.Now()
	progress := newProgress(env.logger, "generating demo data", "rows")
	stats, err := demo.Seed(ctx, store, opts, progress.Report)
	progress.Finish()
	if err != nil {
		return err
	}
	env.logger.Info("demo data ready", "tenant", tenant.From(ctx), "randomSeed", opts.Seed,
		"duration", time.Since(start).Round(time.Millisecond), "workflows", stats.Workflows, "runs", stats.Runs,
		"taskReports", stats.TaskReports, "taskProcessingResults", stats.TaskProcessingResults,
		"userProcessingResults", stats.UserProcessingResults, "users", stats.Users)
	return nil
}
