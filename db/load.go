package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// bulkCacheKiB is the SQLite page cache of a bulk load's connection. Measured on a million demo
// results: 30 s with the 2 MiB default, 27 s with 64 MiB, 35 s with 256 MiB or 1 GiB (a big
// cache of dirty pages costs more at commit than it saves); an import of 100,000 results
// (random ids, so rows land all over every index) is about as fast with 16 MiB, and since the
// secondary indexes of empty tables are built at the end (DeferIndexes), as fast with 8 MiB.
// SQLite's sorter, building those indexes, takes up to the cache's size again: 8 MiB keeps the
// import's process near 75 MB, 16 MiB took it to 100 MB.
const bulkCacheKiB = 8 << 10

// LoadOptions tune BulkLoad.
type LoadOptions struct {
	// Copy lets Insert send rows to PostgreSQL with COPY, into the tables that held no rows at
	// all when the load began; their secondary indexes are dropped then and built once at the
	// end. SQLite always takes multi-row INSERTs.
	Copy bool
	// DeferIndexes drops, on either engine, the secondary indexes of the tables that hold no
	// rows at all when the load begins (with Expect: of those it expects rows in), and builds
	// them once at the end, as Copy does. An import into an empty store takes it.
	DeferIndexes bool
	// Expect is how many rows of each entity the load will insert (Counts.Created): the total
	// Progress reports against.
	Expect WriteStats
	// Progress, when set, is called after every Insert and every index built again, with the
	// rows done and the total: Expect's rows, plus, for each index built again, its table's
	// expected rows once more (building the indexes takes longer than copying the rows).
	Progress func(done, total int64)
}

// load is what Insert needs to know of the BulkLoad it runs in.
type load struct {
	copier   *copyWriter
	copyInto map[string]bool // tables Insert copies into
	// emptyAtStart are the tables that held no rows when the load began: every row an upsert
	// finds in one was written by this load, so reading stored rows first to skip equal ones
	// would find few and is not done.
	emptyAtStart map[string]bool
	mu           sync.Mutex
	stmts        map[string]*sql.Stmt // prepared on SQLite (writeConn), by SQL
	written      map[string]*idFilter // per table empty at start, the ids written (fresh.go)
	done         int64
	total        int64
	progress     func(done, total int64)
}

type loadKey struct{ s *Store }

// BulkLoad runs fn in one transaction made for writing many rows (with Insert, or Write): on
// SQLite with a larger page cache for the connection (bulkCacheKiB), on PostgreSQL (with opts.Copy) by COPY into
// empty tables whose indexes are built once at the end. A failed or canceled load leaves
// nothing behind.
//
// DROP INDEX locks the table until the commit, so readers of it wait for the load: that is why
// only empty tables are done this way (there is nothing to read yet).
func (s *Store) BulkLoad(ctx context.Context, opts LoadOptions, fn func(ctx context.Context) error) error {
	l := &load{copyInto: map[string]bool{}, emptyAtStart: map[string]bool{}, stmts: map[string]*sql.Stmt{}, written: map[string]*idFilter{}, total: int64(opts.Expect.Total().Total()), progress: opts.Progress}
	gdb := s.db.WithContext(ctx)
	useCopy := s.postgres && opts.Copy
	if useCopy {
		// COPY needs the pgx connection under database/sql. Take one connection out of the
		// pool and run the transaction on it: INSERTs and COPYs then share that transaction.
		sqlDB, err := s.db.DB()
		if err != nil {
			return err
		}
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
		defer conn.Close()
		gdb.Statement.ConnPool = conn // Transaction below begins on this connection
		l.copier = newCopyWriter(ctx, conn)
	}
	return gdb.Transaction(func(tx *gorm.DB) error {
		if !s.postgres {
			// A larger page cache keeps the index pages being filled in memory. Restored
			// before the commit, so the pool's connection goes back as it was.
			var cacheSize int
			if err := tx.Raw("PRAGMA cache_size").Scan(&cacheSize).Error; err != nil {
				return err
			}
			if err := tx.Exec("PRAGMA cache_size = -" + strconv.Itoa(bulkCacheKiB)).Error; err != nil {
				return err
			}
			defer tx.Exec("PRAGMA cache_size = " + strconv.Itoa(cacheSize))
		}
		// The tables the load may write, and the rows it expects in each.
		expected := opts.Expect.Total().Total() > 0
		var tables []tableRows
		for _, e := range opts.Expect.entities() {
			if !expected || e.Counts.Created > 0 {
				tables = append(tables, tableRows{e.table, int64(e.Counts.Created)})
			}
		}
		empty, err := emptyTables(tx, tables)
		if err != nil {
			return err
		}
		for _, t := range empty {
			l.emptyAtStart[t.table] = true
		}
		var deferred []deferredIndex
		if useCopy || opts.DeferIndexes {
			if useCopy {
				for _, t := range empty {
					l.copyInto[t.table] = true
				}
			}
			if deferred, err = deferIndexes(tx, s.postgres, empty); err != nil {
				return err
			}
			for _, d := range deferred {
				l.total += d.rows
			}
		}
		ctx := context.WithValue(context.WithValue(ctx, txKey{s}, tx), loadKey{s}, l)
		if err := fn(ctx); err != nil {
			return err
		}
		l.closeStatements()
		if len(deferred) > 0 {
			// The rows are written: what the process holds for writing them goes back before
			// the index builds take their own memory (SQLite sorts in up to its cache's size).
			debug.FreeOSMemory()
		}
		for _, d := range deferred {
			if err := tx.Exec(d.def).Error; err != nil {
				return fmt.Errorf("build index again: %w", err)
			}
			l.advance(d.rows)
		}
		return nil
	})
}

// closeStatements frees the load's prepared statements (each holds its compiled program).
func (l *load) closeStatements() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for q, st := range l.stmts {
		_ = st.Close()
		delete(l.stmts, q)
	}
}

func (l *load) advance(rows int64) {
	l.done += rows
	if l.progress != nil {
		l.progress(l.done, l.total)
	}
}

// Insert adds the rows of b that are not stored yet and leaves stored rows as they are, in one
// transaction (the caller's, inside Atomic or BulkLoad).
func (s *Store) Insert(ctx context.Context, b Batch) (WriteStats, error) {
	l, _ := ctx.Value(loadKey{s}).(*load)
	st, err := s.writeEach(ctx, b, func(ctx context.Context, e batchEntity) (Counts, error) { return e.insert(ctx, s, l) })
	if err == nil && l != nil {
		l.advance(int64(b.Len()))
	}
	return st, err
}

// insertRows adds new rows of one entity: by COPY into a table BulkLoad copies into, otherwise
// by INSERT … ON CONFLICT DO NOTHING.
func insertRows[T any](ctx context.Context, s *Store, l *load, rows []T) (Counts, error) {
	t, err := tableOf[T](s)
	if err != nil {
		return Counts{}, err
	}
	if l == nil || !l.copyInto[t.name] {
		return upsert(ctx, s, rows, keepStored)
	}
	batch, err := prepare(ctx, t, rows)
	if err != nil {
		return Counts{}, err
	}
	if err := l.copier.copy(t, batch); err != nil {
		return Counts{}, fmt.Errorf("write %s: %w", t.entity, err)
	}
	return Counts{Created: len(batch)}, nil
}

// copyWriter sends rows of the GORM models to PostgreSQL with COPY ... FROM STDIN (binary), the
// bulk path that skips parsing and planning an INSERT per batch. It writes on conn, the one
// connection the caller's transaction runs on, so the copied rows commit or roll back with
// everything else that transaction wrote.
type copyWriter struct {
	ctx  context.Context
	conn *sql.Conn
}

func newCopyWriter(ctx context.Context, conn *sql.Conn) *copyWriter {
	return &copyWriter{ctx: ctx, conn: conn}
}

// copy writes rows of one table in one COPY.
func (c *copyWriter) copy(t *writeTable, rows []reflect.Value) error {
	vals := make([]any, len(t.fields))
	src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		for j, f := range t.fields {
			val, err := copyValue(rows[i].Field(f))
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.name, t.columns[j], err)
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
		if n != int64(len(rows)) {
			return fmt.Errorf("copy into %s: %d of %d rows", t.name, n, len(rows))
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

// tableRows is a table and the rows a load is about to write into it.
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

// emptyTables keeps the tables that hold no rows at all (of any tenant).
func emptyTables(tx *gorm.DB, tables []tableRows) ([]tableRows, error) {
	var out []tableRows
	for _, t := range tables {
		var some []int
		if err := tx.Raw("SELECT 1 FROM " + pgx.Identifier{t.table}.Sanitize() + " LIMIT 1").Scan(&some).Error; err != nil {
			return nil, err
		}
		if len(some) == 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// deferIndexes drops, inside tx, the secondary indexes of tables (which hold no rows), and
// returns their definitions for the caller to run once the rows are in. Filling a B-tree row
// by row costs most of a bulk load (each of the ten indexes of task_processing_results is
// searched, and split, for every row); building it once from sorted rows at the end is several
// times cheaper, and leaves it smaller. DDL is transactional in PostgreSQL, so a load that
// fails or is canceled rolls the drop back with everything else.
//
// SQLite's DDL is transactional too, and its readers keep reading the snapshot they began with,
// indexes included. Its unique indexes and the primary key's (sql IS NULL) stay.
func deferIndexes(tx *gorm.DB, postgres bool, tables []tableRows) ([]deferredIndex, error) {
	var out []deferredIndex
	for _, t := range tables {
		var indexes []struct{ Name, Def string }
		q := `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = ?::regclass AND NOT x.indisprimary AND NOT x.indisunique
			ORDER BY i.relname`
		if !postgres {
			q = `SELECT name, sql AS def FROM sqlite_master
				WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
				ORDER BY name`
		}
		err := tx.Raw(q, t.table).Scan(&indexes).Error
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
