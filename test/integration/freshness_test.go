package integration_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/tenant"
)

// lastSynced is Workflow.lastSyncedDateTime of id as tenantID sees it (nil: null).
func lastSynced(t *testing.T, h func(string) http.Handler, tenantID, id string) *time.Time {
	t.Helper()
	var got struct {
		Workflow *struct{ LastSyncedDateTime *time.Time }
	}
	graphtest.MustData(t, h(tenantID), `query($id: ID!) { workflow(id: $id) { lastSyncedDateTime } }`, map[string]any{"id": id}, &got)
	if got.Workflow == nil {
		t.Fatalf("tenant %s sees no workflow %s", tenantID, id)
	}
	return got.Workflow.LastSyncedDateTime
}

// within fails unless at (to the millisecond the API shows) lies in [from, to].
func within(t *testing.T, what string, at *time.Time, from, to time.Time) {
	t.Helper()
	if at == nil || at.Before(from.Truncate(time.Millisecond)) || at.After(to) {
		t.Fatalf("%s: lastSyncedDateTime %v, want between %s and %s", what, at, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
}

// TestWorkflowLastSynced: a sync pass through the Graph double and an import stamp the workflows
// they saw, changed or not, each in its own tenant only, without a change feed entry for the
// stamp; demo data, which Graph never sent, has none.
func TestWorkflowLastSynced(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		dsn := e.DSN(t)
		g := msgraphtest.New(t, dir)
		secretFile := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(secretFile, []byte(g.Secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		syncedFrom := time.Now()
		if err := runCLI(t, ctx, &lockedBuffer{}, "sync", "--db", dsn, "--graph-url", g.GraphURL, "--token-url", g.TokenURL,
			"--tenant-id", syncTenant, "--client-id", g.ClientID, "--client-secret-file", secretFile); err != nil {
			t.Fatal(err)
		}
		syncedTo := time.Now()

		store := dbtest.Open(t, dsn)
		srv := server.New(store, slog.New(slog.DiscardHandler), nil)
		as := func(tenantID string) http.Handler { return asTenant(srv, tenantID) }
		within(t, "after sync", lastSynced(t, as, syncTenant, docsWorkflow), syncedFrom, syncedTo)

		importedFrom := time.Now()
		importDir(t, store, dir) // the default tenant
		importedTo := time.Now()
		first := lastSynced(t, as, tenant.Default, docsWorkflow)
		within(t, "after import", first, importedFrom, importedTo)
		within(t, "the synced tenant after another tenant's import", lastSynced(t, as, syncTenant, docsWorkflow), syncedFrom, syncedTo)

		// The same folder again changes nothing, records nothing, yet the gateway saw Graph's data again.
		feed, err := store.LatestChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		againFrom := time.Now()
		if _, err := msgraph.ImportDir(ctx, store, dir); err != nil {
			t.Fatal(err)
		}
		within(t, "after a second import", lastSynced(t, as, tenant.Default, docsWorkflow), againFrom, time.Now())
		if after, err := store.LatestChange(ctx); err != nil || after != feed {
			t.Errorf("a re-import that changes nothing moved the change feed from %d to %d (%v)", feed, after, err)
		}

		// Demo data: never seen from Graph.
		demoCtx := tenant.WithTenant(ctx, "demo-tenant")
		if _, err := demo.Seed(demoCtx, store, demo.Options{Workflows: 2, RunsPerWorkflow: 2, Users: 5, UsersPerRun: 2, Now: benchNow, Seed: 3}, nil); err != nil {
			t.Fatal(err)
		}
		var list struct {
			Workflows struct {
				Nodes []struct {
					ID                 string
					LastSyncedDateTime *time.Time
				}
			}
		}
		graphtest.MustData(t, as("demo-tenant"), `{ workflows { nodes { id lastSyncedDateTime } } }`, nil, &list)
		if len(list.Workflows.Nodes) != 2 {
			t.Fatalf("demo tenant: %d workflows, want 2", len(list.Workflows.Nodes))
		}
		for _, w := range list.Workflows.Nodes {
			if w.LastSyncedDateTime != nil {
				t.Errorf("demo workflow %s: lastSyncedDateTime %v, want null", w.ID, w.LastSyncedDateTime)
			}
		}
	})
}
