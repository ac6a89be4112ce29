package main

import (
	"context"
	"maps"
	"path/filepath"
	"reflect"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/tenant"
)

// The SQLite file holds exactly the tenant's rows of the PostgreSQL database, and nothing of
// another tenant.
func TestConvertCopiesTheTenantsRows(t *testing.T) {
	ctx := context.Background()
	pgDSN := dbtest.PostgresDSN(t)
	store := dbtest.Open(t, pgDSN)
	if _, err := msgraph.ImportDir(ctx, store, msgraphtest.DocsExample(t)); err != nil {
		t.Fatal(err)
	}
	// The other tenant has one workflow more, which must stay behind.
	other := msgraphtest.CopyFixture(t, msgraphtest.DocsExample(t))
	msgraphtest.EditCollection(t, other, "identityGovernance/lifecycleWorkflows/workflows", func(r []map[string]any) []map[string]any {
		extra := maps.Clone(r[0])
		extra["id"] = "00000000-0000-4000-8000-000000000001"
		return append(r, extra)
	})
	if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, "other"), store, other); err != nil {
		t.Fatal(err)
	}
	liteDSN := filepath.Join(t.TempDir(), "bench.db")
	// A batch smaller than the fixture's tables: rows cross transaction boundaries.
	if err := convert(ctx, pgDSN, liteDSN, tenant.Default, 3); err != nil {
		t.Fatal(err)
	}
	want := dbtest.Dump(t, pgDSN)
	got := dbtest.Dump(t, liteDSN)
	rows := 0
	for _, table := range dbtest.Tables() {
		var tenantRows []dbtest.Row
		for _, r := range want[table] {
			if r["tenant_id"] == tenant.Default {
				tenantRows = append(tenantRows, r)
			}
		}
		rows += len(tenantRows)
		if len(got[table]) != len(tenantRows) {
			t.Errorf("%s: %d rows in SQLite, want %d", table, len(got[table]), len(tenantRows))
			continue
		}
		for i := range tenantRows {
			if !reflect.DeepEqual(got[table][i], tenantRows[i]) {
				t.Errorf("%s row %d:\n got %v\nwant %v", table, i, got[table][i], tenantRows[i])
			}
		}
	}
	if rows == 0 {
		t.Fatal("the fixture imported no rows")
	}
	if err := convert(ctx, pgDSN, liteDSN, tenant.Default, 3); err == nil {
		t.Error("convert wrote into an existing file")
	}
}
