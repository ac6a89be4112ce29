package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// copyWriter sends rows of the GORM models to PostgreSQL with COPY ... FROM STDIN (binary), the
// bulk path that skips parsing and planning an INSERT per batch. It writes on conn, the one
// connection the caller's transaction runs on, so the copied rows commit or roll back with
// everything else that transaction wrote.
type copyWriter struct {
	ctx     context.Context
	conn    *sql.Conn
	schemas map[reflect.Type]*copyTable
	db      *gorm.DB
}

// copyTable is a model's table and the fields that are its columns, parsed once per seed.
type copyTable struct {
	name    string
	columns []string
	fields  []*schema.Field
}

func newCopyWriter(ctx context.Context, gdb *gorm.DB, conn *sql.Conn) *copyWriter {
	return &copyWriter{ctx: ctx, conn: conn, db: gdb, schemas: map[reflect.Type]*copyTable{}}
}

func (c *copyWriter) table(elem reflect.Type) (*copyTable, error) {
	if t, ok := c.schemas[elem]; ok {
		return t, nil
	}
	stmt := &gorm.Statement{DB: c.db}
	if err := stmt.Parse(reflect.New(elem).Interface()); err != nil {
		return nil, err
	}
	t := &copyTable{name: stmt.Schema.Table}
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" {
			t.columns = append(t.columns, f.DBName)
			t.fields = append(t.fields, f)
		}
	}
	c.schemas[elem] = t
	return t, nil
}

// copy writes rows, a slice of one model, in one COPY.
func (c *copyWriter) copy(rows any) error {
	v := reflect.ValueOf(rows)
	t, err := c.table(v.Type().Elem())
	if err != nil {
		return err
	}
	vals := make([]any, len(t.fields))
	src := pgx.CopyFromSlice(v.Len(), func(i int) ([]any, error) {
		row := v.Index(i)
		for j, f := range t.fields {
			val, err := copyValue(f.ReflectValueOf(c.ctx, row))
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.name, f.DBName, err)
			}
			vals[j] = val
		}
		return vals, nil
	})
	return c.conn.Raw(func(dc any) error {
		conn, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("COPY needs pgx's database/sql driver, not %T", dc)
		}
		n, err := conn.Conn().CopyFrom(c.ctx, pgx.Identifier{t.name}, t.columns, src)
		if err != nil {
			return fmt.Errorf("copy into %s: %w", t.name, err)
		}
		if n != int64(v.Len()) {
			return fmt.Errorf("copy into %s: %d of %d rows", t.name, n, v.Len())
		}
		return nil
	})
}

// copyValue hands pgx what database/sql would send for a field: the driver.Value of types that
// have one (JSON lists, category lists), the plain string of the enum types, NULL for a nil
// pointer and the pointed-to value otherwise.
func copyValue(f reflect.Value) (any, error) {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return nil, nil
		}
		f = f.Elem()
	}
	switch x := f.Interface().(type) {
	case string, bool, int, int64:
		return x, nil
	case driver.Valuer:
		return x.Value()
	}
	switch f.Kind() {
	case reflect.String:
		return f.String(), nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return f.Int(), nil
	case reflect.Bool:
		return f.Bool(), nil
	}
	return f.Interface(), nil // time.Time
}

// tableRows is a table and the rows a seed is about to write into it.
type tableRows struct {
	table string
	rows  int64
}

// deferredIndex is an index dropped for a bulk load: its definition, and the rows building it
// again reads.
type deferredIndex struct {
	def  string
	rows int64
}

// deferIndexes drops, inside tx, the secondary indexes of those tables that hold no rows at all
// (of any tenant), and returns their definitions for the caller to run once the rows are in.
// Filling a B-tree row by row costs most of a bulk load (each of the ten indexes of
// task_processing_results is searched, and split, for every row); building it once from sorted
// rows at the end is several times cheaper, and leaves it smaller. DDL is transactional in
// PostgreSQL, so a seed that fails or is canceled rolls the drop back with everything else.
//
// DROP INDEX locks the table until the commit, so readers of it wait for the seed: that is why
// only empty tables are done this way (there is nothing to read yet), and a seed into a table
// that already holds rows keeps its indexes and pays the row-by-row cost.
func deferIndexes(tx *gorm.DB, tables []tableRows) ([]deferredIndex, error) {
	var out []deferredIndex
	for _, t := range tables {
		var some []int
		if err := tx.Raw("SELECT 1 FROM " + pgx.Identifier{t.table}.Sanitize() + " LIMIT 1").Scan(&some).Error; err != nil {
			return nil, err
		}
		if len(some) > 0 {
			continue
		}
		var indexes []struct{ Name, Def string }
		err := tx.Raw(`SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = ?::regclass AND NOT x.indisprimary AND NOT x.indisunique
			ORDER BY i.relname`, t.table).Scan(&indexes).Error
		if err != nil {
			return nil, err
		}
		for _, ix := range indexes {
			if err := tx.Exec("DROP INDEX " + pgx.Identifier{ix.Name}.Sanitize()).Error; err != nil {
				return nil, err
			}
			out = append(out, deferredIndex{def: ix.Def, rows: t.rows})
		}
	}
	return out, nil
}
