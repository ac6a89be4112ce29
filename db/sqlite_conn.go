package db

/*
// The few SQLite functions the reads call themselves: go-sqlite3 links SQLite's amalgamation
// into the binary, and these are its symbols.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef long long sqlite3_int64;
int sqlite3_step(sqlite3_stmt*);
int sqlite3_column_type(sqlite3_stmt*, int);
sqlite3_int64 sqlite3_column_int64(sqlite3_stmt*, int);
double sqlite3_column_double(sqlite3_stmt*, int);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int);
const void *sqlite3_column_blob(sqlite3_stmt*, int);
int sqlite3_column_bytes(sqlite3_stmt*, int);
void sqlite3_interrupt(sqlite3*);
sqlite3_stmt *sqlite3_next_stmt(sqlite3*, sqlite3_stmt*);

// lcw_col is one column of the current row: its storage class and value (text and blobs point
// into SQLite's memory, valid until the next step).
typedef struct {
	int type;
	int n;
	sqlite3_int64 i;
	double f;
	const void *p;
} lcw_col;

// lcw_step steps s and, on a row, reads its ncol columns into cols: one call into C per row.
static int lcw_step(sqlite3_stmt *s, int ncol, lcw_col *cols) {
	int rc = sqlite3_step(s);
	if (rc != 100) return rc; // SQLITE_ROW
	for (int i = 0; i < ncol; i++) {
		lcw_col *c = &cols[i];
		c->type = sqlite3_column_type(s, i);
		switch (c->type) {
		case 1: c->i = sqlite3_column_int64(s, i); break;        // SQLITE_INTEGER
		case 2: c->f = sqlite3_column_double(s, i); break;       // SQLITE_FLOAT
		case 3: c->p = sqlite3_column_text(s, i); c->n = sqlite3_column_bytes(s, i); break; // SQLITE_TEXT
		case 4: c->p = sqlite3_column_blob(s, i); c->n = sqlite3_column_bytes(s, i); break; // SQLITE_BLOB
		}
	}
	return rc;
}

static void lcw_interrupt(void *db) { sqlite3_interrupt((sqlite3*)db); }

static int lcw_prepared(void *db) {
	int n = 0;
	for (sqlite3_stmt *s = sqlite3_next_stmt((sqlite3*)db, 0); s; s = sqlite3_next_stmt((sqlite3*)db, s)) n++;
	return n;
}
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/mattn/go-sqlite3"
)

// The SQLite connections of a store. They are go-sqlite3's, wrapped so that each keeps its own
// prepared statements of the reads (a dashboard's 20-term union of children's pages cost as
// much to compile as to run), and so that a read steps through its rows itself (sqliteRead):
// go-sqlite3 answers every row of a read whose context can be cancelled on a goroutine of its
// own, and boxes every column into a driver.Value (a string copied, then boxed) before
// database/sql converts it again.

const sqliteDriverName = "lcw-sqlite3"

// sqliteStmtCacheSize bounds the statements each connection keeps prepared: the texts of the
// reads vary with page sizes, filters and the number of parents, so a client could otherwise
// make a connection keep one per variant.
const sqliteStmtCacheSize = 32

func init() { sql.Register(sqliteDriverName, sqliteDriver{}) }

type sqliteDriver struct{}

func (sqliteDriver) Open(dsn string) (driver.Conn, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	sc := c.(*sqlite3.SQLiteConn)
	conn := &sqliteConn{SQLiteConn: sc, handle: fieldPointer(sc, "db")}
	conn.stmts, _ = simplelru.NewLRU(sqliteStmtCacheSize, func(_ string, p *sqlitePrepared) { _ = p.stmt.Close() })
	return conn, nil
}

// sqliteConn is a go-sqlite3 connection (every method of which it keeps) with its cache of
// prepared reads. database/sql hands a connection to one user at a time, so the cache needs no
// lock: it is only used inside sql.Conn.Raw.
type sqliteConn struct {
	*sqlite3.SQLiteConn
	handle unsafe.Pointer // the connection's sqlite3*
	stmts  *simplelru.LRU[string, *sqlitePrepared]
}

// sqlitePrepared is a prepared read: its statement, its sqlite3_stmt* and its columns' names.
type sqlitePrepared struct {
	stmt    *sqlite3.SQLiteStmt
	handle  unsafe.Pointer
	columns []string
	plan    any // the last *sqliteFields made for it (one model per statement text in practice)
}

// Close finalizes the prepared reads first: SQLite would otherwise keep the connection's memory
// until they were.
func (c *sqliteConn) Close() error {
	c.stmts.Purge()
	return c.SQLiteConn.Close()
}

// prepared is the connection's statement of query, prepared now if it was not kept.
func (c *sqliteConn) prepared(ctx context.Context, query string) (*sqlitePrepared, error) {
	if p, ok := c.stmts.Get(query); ok {
		return p, nil
	}
	st, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmt := st.(*sqlite3.SQLiteStmt)
	p := &sqlitePrepared{stmt: stmt, handle: fieldPointer(stmt, "s")}
	c.stmts.Add(query, p)
	return p, nil
}

// interrupt makes the statement running on the connection stop with SQLITE_INTERRUPT.
func (c *sqliteConn) interrupt() { C.lcw_interrupt(c.handle) }

// preparedCount is how many statements SQLite holds prepared on the connection.
func (c *sqliteConn) preparedCount() int { return int(C.lcw_prepared(c.handle)) }

// fieldPointer reads an unexported pointer field of go-sqlite3's (the C handles it keeps to
// itself); a version that renames it fails here at once, not later.
func fieldPointer(v any, name string) unsafe.Pointer {
	f := reflect.ValueOf(v).Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("db: go-sqlite3's %T has no pointer field %q", v, name))
	}
	return f.UnsafePointer()
}

// SQLite's storage classes and result codes.
const (
	sqliteInteger   = 1
	sqliteFloat     = 2
	sqliteText      = 3
	sqliteBlob      = 4
	sqliteNull      = 5
	sqliteRow       = 100
	sqliteDone      = 101
	sqliteInterrupt = 9
)

type sqliteCol = C.lcw_col

// step advances the statement and, on a row, reads its columns into cols.
func (p *sqlitePrepared) step(cols []sqliteCol) int {
	var first *C.lcw_col
	if len(cols) > 0 {
		first = &cols[0]
	}
	return int(C.lcw_step((*C.sqlite3_stmt)(p.handle), C.int(len(cols)), first))
}

// colText is a text or blob column's bytes, in SQLite's memory until the next step.
func colText(c *sqliteCol) []byte {
	if c.p == nil || c.n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(c.p), int(c.n))
}
