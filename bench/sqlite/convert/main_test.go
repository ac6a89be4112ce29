package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
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
	// A batch smaller than the fixture's tables: rows cross writes.
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

// The converted file is the file an import of the same data into SQLite writes: the same schema
// (every index the migrations make, built again after the load), the same rows in every table,
// the change feed and the freshness stamps included, and a sound file. Both fixtures are used:
// the history one has workflow versions and user processing results.
func TestConvertWritesWhatAnImportWrites(t *testing.T) {
	for name, fixture := range map[string]func(testing.TB) string{
		"docs": msgraphtest.DocsExample, "history": msgraphtest.HistoryExample,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			pgDSN := dbtest.PostgresDSN(t)
			if _, err := msgraph.ImportDir(ctx, dbtest.Open(t, pgDSN), fixture(t)); err != nil {
				t.Fatal(err)
			}
			importedDSN := dbtest.SQLiteDSN(t)
			if _, err := msgraph.ImportDir(ctx, dbtest.Open(t, importedDSN), fixture(t)); err != nil {
				t.Fatal(err)
			}
			convertedDSN := filepath.Join(t.TempDir(), "bench.db")
			if err := convert(ctx, pgDSN, convertedDSN, tenant.Default, 2); err != nil {
				t.Fatal(err)
			}
			want, got := sqliteContents(t, importedDSN), sqliteContents(t, convertedDSN)
			for _, part := range slices.Sorted(maps.Keys(want)) {
				if !reflect.DeepEqual(got[part], want[part]) {
					t.Errorf("%s:\n got %v\nwant %v", part, got[part], want[part])
				}
			}
			for part := range got {
				if _, ok := want[part]; !ok {
					t.Errorf("%s: in the converted file only", part)
				}
			}
			for _, table := range []string{"task_processing_results", "change_feed", "workflow_freshness"} {
				if len(want["rows of "+table]) == 0 {
					t.Errorf("the import wrote no rows into %s: nothing compared there", table)
				}
			}
			if name == "history" && (len(want["rows of workflow_versions"]) == 0 || len(want["rows of user_processing_results"]) == 0) {
				t.Error("the history fixture imported no workflow versions or user processing results")
			}
		})
	}
}

// sqliteContents reads a whole SQLite file: its schema (every table, index and trigger, by
// name), its integrity check, and the rows of every table as sorted lists, without what
// records when a row was written (change_feed.seq and changed_at, freshness stamps, goose's
// timestamps) or SQLite's own bookkeeping.
func sqliteContents(t *testing.T, dsn string) map[string][]string {
	t.Helper()
	g, done := dbtest.Connect(t, dsn)
	defer done()
	out := map[string][]string{}
	var check []string
	if err := g.Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil {
		t.Fatal(err)
	}
	out["integrity_check"] = check
	var schema []struct{ Type, Name, TblName, SQL string }
	if err := g.Raw("SELECT type, name, tbl_name AS tbl_name, coalesce(sql, '') AS sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	// What an import remembers of the pages it read (db/importmemo.go) is about the import, not
	// the data: a conversion reads no pages.
	importOnly := map[string]bool{"import_memo": true, "import_pages": true}
	volatile := map[string]bool{"change_feed.seq": true, "change_feed.changed_at": true,
		"workflow_freshness.last_synced_at": true, "goose_db_version.tstamp": true}
	for _, s := range schema {
		out["schema"] = append(out["schema"], fmt.Sprintf("%s %s on %s: %s", s.Type, s.Name, s.TblName, s.SQL))
		if s.Type != "table" || importOnly[s.Name] {
			continue
		}
		var rows []map[string]any
		if err := g.Table(s.Name).Find(&rows).Error; err != nil {
			t.Fatalf("read %s: %v", s.Name, err)
		}
		list := []string{}
		for _, r := range rows {
			for col, v := range r {
				if b, ok := v.([]byte); ok {
					r[col] = string(b)
				}
				if volatile[s.Name+"."+col] {
					delete(r, col)
				}
			}
			list = append(list, fmt.Sprint(r)) // fmt sorts map keys
		}
		slices.Sort(list)
		out["rows of "+s.Name] = list
	}
	return out
}
