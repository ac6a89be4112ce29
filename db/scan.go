package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Reading rows into models. A read's rows go straight into the fields of new T values, where
// GORM's Find first scans every column into a value it allocates per row and then copies it by
// reflection. Rows, and the values of nullable text and time columns, are allocated up to 64 at
// a time (slab), not one by one.
//
// On PostgreSQL (without a read replica) a read runs through pgx's own API on a connection of
// the same pool: database/sql would have pgx turn every column of every row into a boxed
// driver.Value and then convert it again into the field (on the dashboard that was a fifth of
// the gateway's CPU); pgx's own scan decodes each column straight into its field. The SQL is
// GORM's, built as for database/sql, and the statement is counted and traced the same way.

// scanPlan maps the columns of a result to the fields of T, made once per type and column list.
type scanPlan struct {
	fields [][]int        // field index in T per column, nil for a column T has no field for
	types  []reflect.Type // the field's type per column
}

var scanPlans sync.Map // scanPlanKey -> *scanPlan

type scanPlanKey struct {
	typ     reflect.Type
	columns string
}

func planFor[T any](columns []string) (*scanPlan, error) {
	key := scanPlanKey{reflect.TypeFor[T](), strings.Join(columns, ",")}
	if p, ok := scanPlans.Load(key); ok {
		return p.(*scanPlan), nil
	}
	sch, err := parseSchema(new(T))
	if err != nil {
		return nil, err
	}
	p := &scanPlan{fields: make([][]int, len(columns)), types: make([]reflect.Type, len(columns))}
	for i, c := range columns {
		if f := sch.LookUpField(c); f != nil {
			p.fields[i] = f.StructField.Index
			p.types[i] = f.StructField.Type
		}
	}
	scanPlans.Store(key, p)
	return p, nil
}

// scanAll runs q (a read built on s) and reads its rows into new T values.
func scanAll[T any](s *Store, q *gorm.DB) ([]*T, error) {
	rows, _, err := scanJoined[T](s, q, nil)
	return rows, err
}

// scanJoined is scanAll of a read whose last columns are those of joins (withJoins): it also
// returns what each join found.
func scanJoined[T any](s *Store, q *gorm.DB, joins []*joinPlan) ([]*T, map[Join]Joined, error) {
	var js *joinScan
	if len(joins) > 0 {
		js = newJoinScan(joins)
	}
	var out []*T
	var err error
	if s.native(q) {
		out, err = scanPgx[T](s, q, js)
	} else if kinds := sqliteKindsFor[T](); kinds != nil && s.sqliteReads(q) {
		out, err = scanSQLite[T](s, q, kinds) // planJoins made no joins: they are pgx's alone
	} else {
		out, err = scanSQL[T](q) // planJoins made no joins: they are pgx's alone
	}
	if err != nil || js == nil {
		return out, nil, err
	}
	return out, js.result(), nil
}

// scanSQL reads through database/sql.
func scanSQL[T any](q *gorm.DB) ([]*T, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	plan, err := planFor[T](all)
	if err != nil {
		return nil, err
	}
	out := []*T{} // as Find: an empty result is an empty slice
	dest := make([]any, len(all))
	var skip any
	var strs slab[string]
	var times slab[time.Time]
	nullStrings := make([]*nullInto[string], len(plan.fields))
	nullTimes := make([]*nullInto[time.Time], len(plan.fields))
	for i, idx := range plan.fields {
		switch {
		case idx == nil:
			dest[i] = &skip
		case plan.types[i] == reflect.TypeFor[*string]():
			nullStrings[i] = &nullInto[string]{slab: &strs}
			dest[i] = nullStrings[i]
		case plan.types[i] == reflect.TypeFor[*time.Time]():
			nullTimes[i] = &nullInto[time.Time]{slab: &times}
			dest[i] = nullTimes[i]
		}
	}
	var items slab[T] // the rows' values, 64 to an allocation
	for rows.Next() {
		v := items.next()
		rv := reflect.ValueOf(v).Elem()
		for i, idx := range plan.fields {
			switch {
			case idx == nil:
			case nullStrings[i] != nil:
				nullStrings[i].dst = rv.FieldByIndex(idx).Addr().Interface().(**string)
			case nullTimes[i] != nil:
				nullTimes[i].dst = rv.FieldByIndex(idx).Addr().Interface().(**time.Time)
			default:
				dest[i] = rv.FieldByIndex(idx).Addr().Interface()
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// pgxReads tells whether the store's reads run through pgx's own API: on PostgreSQL, without a
// read replica (whose pool is the resolver's to choose).
func (s *Store) pgxReads() bool { return s.postgres && s.replicas == nil }

// native tells whether q runs through pgx's own API: on PostgreSQL, on the primary's pool (a
// replica's pool is the resolver's to choose).
func (s *Store) native(q *gorm.DB) bool {
	if !s.pgxReads() {
		return false
	}
	_, ok := q.Statement.ConnPool.(*sql.DB)
	return ok
}

// scanPgx reads through pgx's own API.
func scanPgx[T any](s *Store, q *gorm.DB, js *joinScan) ([]*T, error) {
	// GORM builds the statement without running it, as it would for database/sql.
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(new([]*T))
	if stmt.Error != nil {
		return nil, stmt.Error
	}
	sqlText, vars, ctx := stmt.Statement.SQL.String(), stmt.Statement.Vars, stmt.Statement.Context
	var out []*T
	err := s.withPgx(ctx, sqlText, vars, func(rows pgx.Rows) error {
		var err error
		out, err = readPgx[T](rows, js)
		return err
	})
	return out, err
}

// withPgx runs a query on a connection of the pool and hands read its rows. A connection the
// server closed while it was idle is retried once on another, as database/sql would.
func (s *Store) withPgx(ctx context.Context, sqlText string, vars []any, read func(pgx.Rows) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	s.sent(sqlText, vars)
	vars = pgxArgs(vars)
	for attempt := 0; ; attempt++ {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				err = ErrUnavailable // as acquireWithinDeadline tells a wait for the pool apart
			}
			return err
		}
		retry := false
		err = conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("db: a PostgreSQL connection is a %T, not pgx's", dc)
			}
			rows, err := c.Conn().Query(ctx, sqlText, vars...)
			if err != nil {
				if pgconn.SafeToRetry(err) && attempt == 0 {
					retry = true
					return driver.ErrBadConn // the pool drops the connection
				}
				return err
			}
			defer rows.Close()
			if err := read(rows); err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		})
		_ = conn.Close()
		if !retry {
			return err
		}
	}
}

// pgxArgs is vars as pgx takes them best: a text array as the []string pgx encodes itself
// (its driver.Value, the array's text, pgx would parse into strings again, value by value).
func pgxArgs(vars []any) []any {
	var out []any
	for i, v := range vars {
		if a, ok := v.(textArray); ok {
			if out == nil {
				out = slices.Clone(vars)
			}
			out[i] = []string(a)
		}
	}
	if out == nil {
		return vars
	}
	return out
}

// readPgx scans pgx's rows into new T values, and the joined targets (js) into theirs.
func readPgx[T any](rows pgx.Rows, js *joinScan) ([]*T, error) {
	fds := rows.FieldDescriptions()
	if len(fds) < js.joinedColumns() {
		// pgx reports a failed query (a canceled request, a statement error) through its rows,
		// which then describe no columns.
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("db: a read of %d columns has only %d", js.joinedColumns(), len(fds))
	}
	n := len(fds) - js.joinedColumns() // the row's own columns
	names := make([]string, n)
	for i, fd := range fds[:n] {
		names[i] = fd.Name
	}
	plan, err := planFor[T](names)
	if err != nil {
		return nil, err
	}
	text := &textArena{}
	own := newPgxFields(reflect.TypeFor[T](), plan.fields, plan.types, fds[:n], text)
	if js != nil {
		js.bindPgx(fds[n:], len(fds), text)
	}
	out := []*T{}                 // as Find: an empty result is an empty slice
	dest := make([]any, len(fds)) // the joined columns' stay nil: rawRow decodes them
	var items slab[T]
	for rows.Next() {
		v := items.next()
		own.bind(unsafe.Pointer(v), dest[:n])
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if err := own.settle(unsafe.Pointer(v)); err != nil {
			return nil, err
		}
		if js != nil {
			if err := js.rawRow(rows.RawValues(), rows.Scan); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// pgxFields decodes the columns of a pgx row into the fields of a model value: most straight
// into their field; text through a scratch value that receives pgx's raw bytes and makes the
// string in the read's text arena (one allocation for many strings, where pgx makes one per
// value), nullable text and times into slabs (pgx would allocate each value on its own); the
// text of ids and enums, which repeat from row to row (the parent's id in every child), as one
// string per distinct value of the read.
type pgxFields struct {
	fields []fieldAt
	kind   []pgxKind
	texts  []textInto
	stamps []pgtype.Timestamptz
	strs   slab[string]
	times  slab[time.Time]
}

type pgxKind uint8

const (
	pgxSkip pgxKind = iota
	pgxDirect
	pgxText     // a string or a named string type
	pgxNullText // a *string
	pgxNullTime
)

func newPgxFields(model reflect.Type, fields [][]int, types []reflect.Type, fds []pgconn.FieldDescription, arena *textArena) *pgxFields {
	b := &pgxFields{fields: make([]fieldAt, len(fields)), kind: make([]pgxKind, len(fields)), texts: make([]textInto, len(fields)),
		stamps: make([]pgtype.Timestamptz, len(fields))}
	for i, idx := range fields {
		if idx != nil {
			b.fields[i] = fieldOf(model, idx)
		}
		text := fds[i].DataTypeOID == pgtype.TextOID || fds[i].DataTypeOID == pgtype.VarcharOID
		switch t := types[i]; {
		case idx == nil:
			b.kind[i] = pgxSkip
		case t == reflect.TypeFor[*string]() && text:
			b.kind[i] = pgxNullText
			b.texts[i] = textInto{arena: arena, strs: &b.strs}
		case t == reflect.TypeFor[*time.Time]() && fds[i].DataTypeOID == pgtype.TimestamptzOID:
			b.kind[i] = pgxNullTime
		case t.Kind() == reflect.String && text:
			b.kind[i] = pgxText
			b.texts[i] = textInto{arena: arena, share: t != reflect.TypeFor[string]() || strings.HasSuffix(fds[i].Name, "_id")}
		default:
			b.kind[i] = pgxDirect
		}
	}
	return b
}

// bind points dest, one per column, at the fields of the model value at v or the scratch values.
func (b *pgxFields) bind(v unsafe.Pointer, dest []any) {
	for i, f := range b.fields {
		switch b.kind[i] {
		case pgxDirect:
			dest[i] = f.ptr(v)
		case pgxText, pgxNullText:
			b.texts[i].dst = unsafe.Add(v, f.off)
			dest[i] = &b.texts[i]
		case pgxNullTime:
			dest[i] = &b.stamps[i]
		default:
			dest[i] = nil // pgx skips the column
		}
	}
}

// settle moves what the scratch values received into the fields of the model value at v.
func (b *pgxFields) settle(v unsafe.Pointer) error {
	for i, f := range b.fields {
		switch b.kind[i] {
		case pgxNullTime:
			p := (**time.Time)(unsafe.Add(v, f.off))
			if *p = nil; b.stamps[i].Valid {
				if b.stamps[i].InfinityModifier != pgtype.Finite {
					return fmt.Errorf("db: a time column holds %s", b.stamps[i].InfinityModifier)
				}
				*p = b.times.put(b.stamps[i].Time)
			}
		}
	}
	return nil
}

// fieldAt is a field of a model by its offset, so that a row's destinations are made without
// looking the field up by reflection per column per row.
type fieldAt struct {
	off uintptr
	typ reflect.Type
}

func fieldOf(model reflect.Type, idx []int) fieldAt {
	var off uintptr
	t := model
	for _, i := range idx {
		f := t.Field(i)
		off += f.Offset
		t = f.Type
	}
	return fieldAt{off: off, typ: t}
}

// ptr is a pointer to the field of the model value at v, typed as the field.
func (f fieldAt) ptr(v unsafe.Pointer) any {
	p := unsafe.Add(v, f.off)
	switch f.typ {
	case reflect.TypeFor[string]():
		return (*string)(p)
	case reflect.TypeFor[int]():
		return (*int)(p)
	case reflect.TypeFor[bool]():
		return (*bool)(p)
	case reflect.TypeFor[time.Time]():
		return (*time.Time)(p)
	}
	return reflect.NewAt(f.typ, p).Interface()
}

// textInto receives a text column's raw bytes (pgx hands them over undecoded) and stores them
// as a string of the read's arena in the field at dst: a string (or a named string type), or a
// *string (strs set) that NULL leaves nil. With share set, a value among the column's last few
// distinct ones is stored as the same string (recentText).
type textInto struct {
	dst    unsafe.Pointer
	arena  *textArena
	strs   *slab[string]
	share  bool
	recent recentText
}

func (t *textInto) ScanBytes(v []byte) error {
	if v == nil {
		if t.strs == nil {
			return errors.New("db: NULL in a column that cannot hold one")
		}
		*(**string)(t.dst) = nil
		return nil
	}
	var s string
	if t.share {
		s = t.recent.text(v, t.arena)
	} else {
		s = t.arena.text(v)
	}
	if t.strs != nil {
		*(**string)(t.dst) = t.strs.put(s)
	} else {
		*(*string)(t.dst) = s
	}
	return nil
}

// recentText shares the strings of one column: ids and enums repeat from row to row (a child's
// parent id in each of its rows, a status), and a value among the last few distinct ones read
// is the same string again. A map of every value cost more than it saved on a column of mostly
// distinct values (each result's subject).
type recentText struct {
	vals [8]string // the last distinct values, most recent at next-1
	next int
}

func (r *recentText) text(v []byte, arena *textArena) string {
	for i := range len(r.vals) {
		// from the most recent: a run of the same value finds it first
		if s := r.vals[(r.next-1-i)&(len(r.vals)-1)]; s == string(v) {
			return s
		}
	}
	s := arena.text(v)
	r.vals[r.next&(len(r.vals)-1)] = s
	r.next++
	return s
}

// textArena makes the strings of one read in shared chunks: a few allocations for a page's
// hundreds of ids and names instead of one each (and less for the garbage collector to trace).
// A string kept after its request keeps its chunk (at most maxArenaChunk bytes) alive with it.
type textArena struct{ buf []byte }

const maxArenaChunk = 16 << 10

func (a *textArena) text(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > cap(a.buf)-len(a.buf) {
		if len(v) > maxArenaChunk/4 {
			return string(v) // a long value on its own
		}
		a.buf = make([]byte, 0, min(maxArenaChunk, max(512, 2*cap(a.buf))))
	}
	start := len(a.buf)
	a.buf = append(a.buf, v...)
	return unsafe.String(&a.buf[start], len(v))
}

// nullInto scans a nullable column into a pointer field, the value kept in a slab shared by
// the query's rows (database/sql would allocate each value on its own).
type nullInto[V any] struct {
	dst  **V
	slab *slab[V]
	v    sql.Null[V]
}

func (n *nullInto[V]) Scan(src any) error {
	if err := n.v.Scan(src); err != nil {
		return err
	}
	if !n.v.Valid {
		*n.dst = nil
		return nil
	}
	*n.dst = n.slab.put(n.v.V)
	return nil
}

// slab hands out pointers into chunks of values.
type slab[V any] struct{ free []V }

func (s *slab[V]) put(v V) *V {
	p := s.next()
	*p = v
	return p
}

// next is a pointer to a new zero value.
func (s *slab[V]) next() *V {
	if len(s.free) == cap(s.free) {
		// 4 first, so a read of one row costs little more than before; then doubling up to 64
		s.free = make([]V, 0, min(64, max(4, 2*cap(s.free))))
	}
	s.free = s.free[:len(s.free)+1]
	return &s.free[len(s.free)-1]
}
