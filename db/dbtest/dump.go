package dbtest

import (
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"lcw-gateway/db"
)

// Tables lists the entity tables the migrations create (db.EntityTables).
func Tables() []string { return db.EntityTables() }

// Row is one stored row by column name. Values are normalized so that rows compare with
// reflect.DeepEqual and read the same on both engines: timestamps as RFC 3339 UTC strings,
// integers as int64, text as string, NULL as nil.
type Row map[string]any

// Dump reads every table of the database at dsn through its own connection, rows ordered by
// (tenant_id, id): what a test compares to tell whether anything changed.
func Dump(t testing.TB, dsn string) map[string][]Row {
	t.Helper()
	g, done := Connect(t, dsn)
	defer done()
	out := map[string][]Row{}
	for _, table := range Tables() {
		var rows []map[string]any
		if err := g.Table(table).Order("tenant_id, id").Find(&rows).Error; err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		out[table] = make([]Row, len(rows))
		for i, r := range rows {
			row := make(Row, len(r))
			for k, v := range r {
				row[k] = normalize(v)
			}
			out[table][i] = row
		}
	}
	return out
}

func normalize(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	}
	return v
}

// Connect opens a connection of its own to the database at dsn, for reading what a store
// wrote; done closes it.
func Connect(t testing.TB, dsn string) (g *gorm.DB, done func()) {
	t.Helper()
	dialector := sqlite.Open(dsn)
	if db.IsPostgres(dsn) {
		dialector = postgres.Open(dsn)
	}
	g, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	return g, func() { _ = sqlDB.Close() }
}
