package db_test

import (
	"context"
	"reflect"
	"testing"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	tenantctx "lcw-gateway/tenant"
)

// TenantsWithWorkflows counts every tenant's workflows, the fullest first; demo.HasDataSet finds
// the data set of one random seed in one tenant only.
func TestTenantsWithWorkflowsAndDemoDataSets(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		ctx := context.Background()
		if got, err := store.TenantsWithWorkflows(ctx); err != nil || len(got) != 0 {
			t.Fatalf("empty store: %v, %v; want no tenant", got, err)
		}
		small := demo.Options{Workflows: 2, RunsPerWorkflow: 1, Users: 4}
		seed := func(tenant string, randomSeed int64, workflows int) {
			t.Helper()
			opts := small
			opts.Seed, opts.Workflows = randomSeed, workflows
			if _, err := demo.Seed(tenantctx.WithTenant(ctx, tenant), store, opts, nil); err != nil {
				t.Fatal(err)
			}
		}
		seed("t-one", 1, 2)
		seed("t-two", 1, 3)
		seed("t-one", 2, 2)
		got, err := store.TenantsWithWorkflows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []db.TenantWorkflows{{TenantID: "t-one", Workflows: 4}, {TenantID: "t-two", Workflows: 3}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("TenantsWithWorkflows = %+v, want %+v", got, want)
		}
		for _, c := range []struct {
			tenant string
			seed   int64
			want   bool
		}{{"t-one", 1, true}, {"t-one", 2, true}, {"t-one", 3, false}, {"t-two", 1, true}, {"t-two", 2, false}, {tenantctx.Default, 1, false}} {
			has, err := demo.HasDataSet(tenantctx.WithTenant(ctx, c.tenant), store, c.seed)
			if err != nil || has != c.want {
				t.Errorf("demo.HasDataSet(%s, %d) = %v, %v; want %v", c.tenant, c.seed, has, err, c.want)
			}
		}
	})
}
