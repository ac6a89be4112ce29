package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
)

// The two migration trees (migrations/sqlite, migrations/postgres) are written by hand, once per
// dialect. This test migrates a real database of each engine and reads back what they hold from
// the engines' own catalogues (never by parsing the migrations), as facts: tables, columns with
// nullability and a type class, primary keys, unique constraints and indexes with their keys,
// uniqueness and partial predicate. Both engines must hold the same facts.

// acceptedSchemaDifferences are facts one engine holds and the other does not, on purpose. Each
// must still occur: an entry that no longer matches anything fails the test, so the list stays true.
var acceptedSchemaDifferences = map[string]string{
	// SQLite sorts NULL first in an ascending index and has no NULLS LAST for index keys. This index
	// serves the summary windows' range scans on started_date_time (aggregate.go), where where NULLs
	// sort does not matter; the sort orders of the API have their own NULLS FIRST indexes (00001's
	// idx_*_completed, idx_runs_workflow_started). A PostgreSQL sort by startedDateTime within a
	// workflow therefore sorts that workflow's reports rather than reading them in index order.
	"sqlite: index task_reports.idx_task_reports_workflow_started (tenant_id, workflow_id, started_date_time nulls first)":  "summary range scans only",
	"postgres: index task_reports.idx_task_reports_workflow_started (tenant_id, workflow_id, started_date_time nulls last)": "summary range scans only",
}

func TestMigrationsMatchAcrossEngines(t *testing.T) {
	lite, pg := migratedSchemas(t)
	onlyLite, onlyPG := differences(lite, pg)
	got := map[string]bool{}
	for _, f := range onlyLite {
		got["sqlite: "+f] = true
	}
	for _, f := range onlyPG {
		got["postgres: "+f] = true
	}
	for _, f := range slices.Sorted(maps.Keys(got)) {
		if _, ok := acceptedSchemaDifferences[f]; !ok {
			t.Errorf("only on %s", f)
		}
	}
	for f := range acceptedSchemaDifferences {
		if !got[f] {
			t.Errorf("accepted difference no longer occurs, remove it: %s", f)
		}
	}
	if len(lite) < 10 {
		t.Fatalf("read %d schema facts from SQLite: the catalogue queries found nothing", len(lite))
	}
}

// The comparison itself must see what it claims to: a dropped index, a changed predicate, a
// column that became nullable.
func TestMigrationsMatchSeesDifferences(t *testing.T) {
	ctx := context.Background()
	liteDB, pgDB := migratedDatabases(t)
	base := sqliteSchema(t, liteDB)
	for _, tc := range []struct {
		name, sqlite, postgres, want string
	}{
		{"dropped index", "DROP INDEX idx_tpr_run", "", "index task_processing_results.idx_tpr_run (tenant_id, run_id, id)"},
		{"partial predicate", "CREATE INDEX idx_probe ON runs (tenant_id) WHERE processing_status = 'failed'",
			"CREATE INDEX idx_probe ON runs (tenant_id) WHERE processing_status = 'completed'",
			"index runs.idx_probe (tenant_id) where processing_status = 'failed'"},
		{"unique constraint", "CREATE TABLE probe (a TEXT NOT NULL, b TEXT, UNIQUE (a, b))",
			"CREATE TABLE probe (a TEXT NOT NULL, b TEXT, UNIQUE (b, a))", "unique probe (a, b)"},
		{"nullability and type", "CREATE TABLE probe2 (a INTEGER)", "CREATE TABLE probe2 (a TEXT NOT NULL)", "column probe2.a int null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range []struct {
				db   *sql.DB
				stmt string
			}{{liteDB, tc.sqlite}, {pgDB, tc.postgres}} {
				if s.stmt == "" {
					continue
				}
				if _, err := s.db.ExecContext(ctx, s.stmt); err != nil {
					t.Fatal(err)
				}
			}
			after := sqliteSchema(t, liteDB)
			onlyLite, onlyPG := differences(after, postgresSchema(t, pgDB))
			if !slices.Contains(append(onlyLite, onlyPG...), tc.want) {
				t.Errorf("comparison missed %q; only SQLite: %q; only PostgreSQL: %q", tc.want, onlyLite, onlyPG)
			}
			if slices.Equal(base, after) && tc.sqlite != "" {
				t.Errorf("SQLite facts did not change after %s", tc.sqlite)
			}
		})
	}
}

func migratedDatabases(t *testing.T) (lite, pg *sql.DB) {
	t.Helper()
	if pgDSN := dbtest.PostgresDSN(t); pgDSN != "" {
		var err error
		if pg, err = dbtest.Open(t, pgDSN).SQL(); err != nil {
			t.Fatal(err)
		}
	}
	lite, err := dbtest.Open(t, dbtest.SQLiteDSN(t)).SQL()
	if err != nil {
		t.Fatal(err)
	}
	return lite, pg
}

func migratedSchemas(t *testing.T) (lite, pg []string) {
	liteDB, pgDB := migratedDatabases(t)
	return sqliteSchema(t, liteDB), postgresSchema(t, pgDB)
}

// differences is what a holds and b does not, and the other way round.
func differences(a, b []string) (onlyA, onlyB []string) {
	for _, f := range a {
		if !slices.Contains(b, f) {
			onlyA = append(onlyA, f)
		}
	}
	for _, f := range b {
		if !slices.Contains(a, f) {
			onlyB = append(onlyB, f)
		}
	}
	return onlyA, onlyB
}

// migrationTable is goose's own bookkeeping, not the gateway's schema.
const migrationTable = "goose_db_version"

func sqliteSchema(t *testing.T, conn *sql.DB) []string {
	t.Helper()
	var facts []string
	tables := queryStrings(t, conn, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`, migrationTable)
	for _, table := range tables {
		facts = append(facts, "table "+table)
		nullable := map[string]bool{}
		var pk []string
		rows := query(t, conn, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY pk, cid`, table)
		for rows.Next() {
			var name, typ string
			var notNull bool
			var pkPos int
			scan(t, rows, &name, &typ, &notNull, &pkPos)
			nullable[name] = !notNull
			facts = append(facts, columnFact(table, name, sqliteTypeClass(typ), !notNull))
			if pkPos > 0 {
				pk = append(pk, name)
			}
		}
		if len(pk) > 0 {
			facts = append(facts, keyFact("primary key", table, pk))
		}
		type index struct {
			name, origin string
			unique       bool
		}
		var indexes []index
		rows = query(t, conn, `SELECT name, "unique", origin FROM pragma_index_list(?)`, table)
		for rows.Next() {
			var ix index
			scan(t, rows, &ix.name, &ix.unique, &ix.origin)
			indexes = append(indexes, ix)
		}
		for _, ix := range indexes {
			var cols, keys []string
			rows := query(t, conn, `SELECT name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, ix.name)
			for rows.Next() {
				var col string
				var desc bool
				scan(t, rows, &col, &desc)
				cols = append(cols, col)
				// SQLite's NULL is smaller than any value, in indexes as in ORDER BY.
				keys = append(keys, keyColumn(col, desc, !desc, nullable[col]))
			}
			switch ix.origin {
			case "pk": // the table's primary key, already a fact
			case "u":
				facts = append(facts, keyFact("unique", table, cols))
			default:
				// The predicate is kept only in the statement SQLite stored for the index.
				var stored sql.NullString
				if err := conn.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, ix.name).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				where := ""
				if i := strings.Index(strings.ToUpper(stored.String), " WHERE "); i >= 0 {
					where = stored.String[i+len(" WHERE "):]
				}
				facts = append(facts, indexFact(table, ix.name, keys, ix.unique, where))
			}
		}
	}
	slices.Sort(facts)
	return facts
}

func postgresSchema(t *testing.T, conn *sql.DB) []string {
	t.Helper()
	var facts []string
	tables := queryStrings(t, conn, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`, migrationTable)
	for _, table := range tables {
		facts = append(facts, "table "+table)
		nullable := map[string]bool{}
		rows := query(t, conn, `SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, table)
		for rows.Next() {
			var name, typ string
			var null bool
			scan(t, rows, &name, &typ, &null)
			nullable[name] = null
			facts = append(facts, columnFact(table, name, postgresTypeClass(typ), null))
		}
		rows = query(t, conn, `SELECT tc.constraint_type, string_agg(k.column_name, ',' ORDER BY k.ordinal_position)
			FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name, table_name)
			WHERE tc.table_schema = current_schema() AND tc.table_name = $1 AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
			GROUP BY tc.constraint_name, tc.constraint_type`, table)
		for rows.Next() {
			var kind, cols string
			scan(t, rows, &kind, &cols)
			facts = append(facts, keyFact(strings.ToLower(kind), table, strings.Split(cols, ",")))
		}
		// pg_indexes lists the indexes; pg_index has each key's column and sort options. Indexes that
		// back a constraint are facts already.
		rows = query(t, conn, `SELECT i.indexname, x.indisunique, coalesce(pg_get_expr(x.indpred, x.indrelid), ''),
				string_agg(pg_get_indexdef(x.indexrelid, k.n::int, true) || ':' || x.indoption[k.n - 1], ',' ORDER BY k.n)
			FROM pg_indexes i
			JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = i.schemaname)
			JOIN pg_index x ON x.indexrelid = c.oid
			CROSS JOIN LATERAL generate_series(1, x.indnkeyatts) AS k(n)
			WHERE i.schemaname = current_schema() AND i.tablename = $1
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.conindid = x.indexrelid)
			GROUP BY i.indexname, x.indisunique, x.indpred, x.indrelid`, table)
		for rows.Next() {
			var name, where, cols string
			var unique bool
			scan(t, rows, &name, &unique, &where, &cols)
			var keys []string
			for _, c := range strings.Split(cols, ",") {
				col, opt, _ := strings.Cut(c, ":")
				var option int
				fmt.Sscan(opt, &option)
				// indoption: bit 0 is DESC, bit 1 NULLS FIRST.
				keys = append(keys, keyColumn(col, option&1 != 0, option&2 != 0, nullable[col]))
			}
			facts = append(facts, indexFact(table, name, keys, unique, where))
		}
	}
	slices.Sort(facts)
	return facts
}

func columnFact(table, column, class string, nullable bool) string {
	null := "not null"
	if nullable {
		null = "null"
	}
	return fmt.Sprintf("column %s.%s %s %s", table, column, class, null)
}

func keyFact(kind, table string, cols []string) string {
	return fmt.Sprintf("%s %s (%s)", kind, table, strings.Join(cols, ", "))
}

// keyColumn names an index key with its direction and, for a column that can hold NULL, where
// NULLs sort: on a NOT NULL column that placement is the engines' default and means nothing.
func keyColumn(col string, desc, nullsFirst, nullable bool) string {
	if desc {
		col += " desc"
	}
	if nullable {
		if nullsFirst {
			col += " nulls first"
		} else {
			col += " nulls last"
		}
	}
	return col
}

func indexFact(table, name string, keys []string, unique bool, where string) string {
	f := fmt.Sprintf("index %s.%s (%s)", table, name, strings.Join(keys, ", "))
	if unique {
		f = "unique " + f
	}
	if where = normalizePredicate(where); where != "" {
		f += " where " + where
	}
	return f
}

var (
	pgCast     = regexp.MustCompile(`::[a-z ]+`)
	whitespace = regexp.MustCompile(`\s+`)
)

// normalizePredicate writes a partial index's WHERE as both engines would compare it:
// PostgreSQL's deparsed form adds parentheses, quotes and casts of literals that SQLite keeps
// as written.
func normalizePredicate(p string) string {
	p = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), ";")))
	p = pgCast.ReplaceAllString(p, "")
	p = strings.NewReplacer("(", "", ")", "", `"`, "").Replace(p)
	return strings.TrimSpace(whitespace.ReplaceAllString(p, " "))
}

// sqliteTypeClass classes a declared type the way SQLite's affinity rules read it, with the
// names the migrations use for booleans and timestamps (stored as integers and UTC text).
func sqliteTypeClass(declared string) string {
	d := strings.ToUpper(declared)
	switch {
	case strings.Contains(d, "INT"):
		return "int"
	case strings.Contains(d, "BOOL"):
		return "bool"
	case strings.Contains(d, "DATE") || strings.Contains(d, "TIME"):
		return "timestamp"
	case strings.Contains(d, "CHAR") || strings.Contains(d, "CLOB") || strings.Contains(d, "TEXT"):
		return "text"
	case strings.Contains(d, "REAL") || strings.Contains(d, "FLOA") || strings.Contains(d, "DOUB"):
		return "float"
	case d == "" || strings.Contains(d, "BLOB"):
		return "bytes"
	}
	return "numeric " + d
}

// postgresTypeClass classes information_schema's data_type. A timestamp without time zone is
// its own class: the gateway stores instants, and SQLite's UTC text is one.
func postgresTypeClass(dataType string) string {
	switch dataType {
	case "smallint", "integer", "bigint":
		return "int"
	case "boolean":
		return "bool"
	case "timestamp with time zone":
		return "timestamp"
	case "text", "character varying", "character":
		return "text"
	case "real", "double precision":
		return "float"
	case "bytea":
		return "bytes"
	}
	return dataType
}

func query(t *testing.T, conn *sql.DB, q string, args ...any) *sql.Rows {
	t.Helper()
	rows, err := conn.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	t.Cleanup(func() { _ = rows.Close() })
	return rows
}

func scan(t *testing.T, rows *sql.Rows, dst ...any) {
	t.Helper()
	if err := rows.Scan(dst...); err != nil {
		t.Fatal(err)
	}
}

func queryStrings(t *testing.T, conn *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows := query(t, conn, q, args...)
	var out []string
	for rows.Next() {
		var s string
		scan(t, rows, &s)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
