package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// Reading rows on SQLite (without database/sql's rows): the read's statement is the
// connection's prepared one (sqliteConn), its rows are stepped here and each column decoded
// straight into its field; the text of ids and enums, which repeat from row to row, is one
// string per distinct value of the read, as on PostgreSQL (pgxFields). A request's cancellation
// interrupts the statement, as go-sqlite3 does, without a goroutine per row.

// sqliteReads tells whether q runs on its own connection of the pool through sqliteRead: on
// SQLite, outside a transaction (which holds its connection already).
func (s *Store) sqliteReads(q *gorm.DB) bool {
	if s.postgres {
		return false
	}
	_, ok := q.Statement.ConnPool.(*sql.DB)
	return ok
}

// scanSQLite reads q's rows into new T values.
func scanSQLite[T any](s *Store, q *gorm.DB, kinds []sqliteKind) ([]*T, error) {
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(new([]*T))
	if stmt.Error != nil {
		return nil, stmt.Error
	}
	sqlText, vars, ctx := stmt.Statement.SQL.String(), stmt.Statement.Vars, stmt.Statement.Context
	args, err := sqliteArgs(vars)
	if err != nil {
		return nil, err
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	s.sent(sqlText, vars)
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = ErrUnavailable // as acquireWithinDeadline tells a wait for the pool apart
		}
		return nil, err
	}
	defer conn.Close()
	var out []*T
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*sqliteConn)
		if !ok {
			return fmt.Errorf("db: a SQLite connection is a %T, not the store's", dc)
		}
		p, err := c.prepared(ctx, sqlText)
		if err != nil {
			return err
		}
		rows, err := p.stmt.QueryContext(context.Background(), args) // binds; the rows are stepped here
		if err != nil {
			return err
		}
		stop := c.interruptWhenDone(ctx)
		out, err = readSQLite[T](p, rows, kinds)
		stop()
		if closeErr := rows.Close(); err == errStepFailed {
			switch {
			case ctx.Err() != nil:
				err = ctx.Err() // interrupted, as go-sqlite3 reports it
			case closeErr != nil:
				err = closeErr // resetting the statement reports the step's error
			}
		}
		return err
	})
	return out, err
}

var errStepFailed = errors.New("db: a SQLite step failed")

// interruptWhenDone interrupts the connection's statement when ctx is done, until stop is called
// (which waits for an interrupt under way, so it never reaches the connection's next statement).
func (c *sqliteConn) interruptWhenDone(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		c.interrupt()
		close(done)
	})
	return func() {
		if !cancel() {
			<-done
		}
	}
}

// sqliteArgs turns GORM's arguments into the driver's, as database/sql would.
func sqliteArgs(vars []any) ([]driver.NamedValue, error) {
	args := make([]driver.NamedValue, len(vars))
	for i, v := range vars {
		if valuer, ok := v.(driver.Valuer); ok {
			var err error
			if v, err = valuer.Value(); err != nil {
				return nil, err
			}
		}
		dv, err := driver.DefaultParameterConverter.ConvertValue(v)
		if err != nil {
			return nil, fmt.Errorf("db: argument %d: %w", i+1, err)
		}
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: dv}
	}
	return args, nil
}

// sqliteKind is how a column is decoded into its field.
type sqliteKind uint8

const (
	sqliteSkip     sqliteKind = iota
	sqliteString              // a string field: a new string
	sqliteShared              // an id or an enum: one string per distinct value of the read
	sqliteNullText            // *string
	sqliteInt                 // a signed integer of any size
	sqliteBool
	sqliteNullBool
	sqliteTime
	sqliteNullTime
	sqliteFloat64
	sqliteScanner // the field's pointer is a sql.Scanner: given the value go-sqlite3 would give
)

// sqliteKindsFor is the kind of each field of T by its index in T, or nil when a field has a
// type the reads do not decode themselves (those reads go through database/sql).
func sqliteKindsFor[T any]() []sqliteKind {
	t := reflect.TypeFor[T]()
	if k, ok := sqliteKindCache.Load(t); ok {
		return k.([]sqliteKind)
	}
	var kinds []sqliteKind
	if t.Kind() == reflect.Struct {
		kinds = make([]sqliteKind, t.NumField())
		for i := range kinds {
			f := t.Field(i)
			if kinds[i] = sqliteKindOf(f); kinds[i] == sqliteSkip && f.IsExported() {
				kinds = nil
				break
			}
		}
	}
	sqliteKindCache.Store(t, kinds)
	return kinds
}

var sqliteKindCache sync.Map // reflect.Type -> []sqliteKind

func sqliteKindOf(f reflect.StructField) sqliteKind {
	t := f.Type
	if reflect.PointerTo(t).Implements(reflect.TypeFor[sql.Scanner]()) {
		return sqliteScanner
	}
	switch t {
	case reflect.TypeFor[*string]():
		return sqliteNullText
	case reflect.TypeFor[*bool]():
		return sqliteNullBool
	case reflect.TypeFor[time.Time]():
		return sqliteTime
	case reflect.TypeFor[*time.Time]():
		return sqliteNullTime
	}
	switch t.Kind() {
	case reflect.String:
		if t != reflect.TypeFor[string]() || f.Name == "TenantID" || strings.HasSuffix(f.Name, "ID") && f.Name != "ID" {
			return sqliteShared
		}
		return sqliteString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return sqliteInt
	case reflect.Bool:
		return sqliteBool
	case reflect.Float64:
		return sqliteFloat64
	}
	return sqliteSkip
}

// sqliteFields is how the columns of a prepared read go into the fields of T.
type sqliteFields struct {
	model reflect.Type
	kind  []sqliteKind
	field []fieldAt
}

func sqliteFieldsFor[T any](p *sqlitePrepared, kinds []sqliteKind) (*sqliteFields, error) {
	model := reflect.TypeFor[T]()
	if f, ok := p.plan.(*sqliteFields); ok && f.model == model {
		return f, nil
	}
	plan, err := planFor[T](p.columns)
	if err != nil {
		return nil, err
	}
	f := &sqliteFields{model: model, kind: make([]sqliteKind, len(p.columns)), field: make([]fieldAt, len(p.columns))}
	for i, idx := range plan.fields {
		if idx == nil {
			continue
		}
		if len(idx) != 1 {
			return nil, fmt.Errorf("db: %s.%s is a field of an embedded struct, which sqliteKindsFor refuses", model, p.columns[i])
		}
		f.field[i] = fieldOf(model, idx)
		f.kind[i] = kinds[idx[0]]
	}
	p.plan = f
	return f, nil
}

// readSQLite steps the prepared read's rows into new T values.
func readSQLite[T any](p *sqlitePrepared, rows driver.Rows, kinds []sqliteKind) ([]*T, error) {
	if p.columns == nil {
		p.columns = rows.Columns() // SQLite's names of the statement's columns, read once
	}
	f, err := sqliteFieldsFor[T](p, kinds)
	if err != nil {
		return nil, err
	}
	cols := make([]sqliteCol, len(p.columns))
	var r sqliteRowReader
	out := []*T{} // as Find: an empty result is an empty slice
	var items slab[T]
	for {
		switch rc := p.step(cols); rc {
		case sqliteRow:
		case sqliteDone:
			return out, nil
		default:
			return nil, errStepFailed
		}
		v := items.next()
		if err := r.row(f, unsafe.Pointer(v), cols); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// sqliteRowReader decodes rows: it keeps the strings shared by the read and the slabs of its
// nullable values.
type sqliteRowReader struct {
	recent []recentText // per column, for the ids and enums shared between rows
	arena  textArena
	strs   slab[string]
	times  slab[time.Time]
	bools  slab[bool]
}

func (r *sqliteRowReader) row(f *sqliteFields, v unsafe.Pointer, cols []sqliteCol) error {
	for i := range cols {
		kind := f.kind[i]
		if kind == sqliteSkip {
			continue
		}
		c := &cols[i]
		p := unsafe.Add(v, f.field[i].off)
		null := c._type == sqliteNull
		switch kind {
		case sqliteString:
			if null {
				return r.notNull(f, i)
			}
			*(*string)(p) = r.arena.text(colText(c))
		case sqliteShared:
			if null {
				return r.notNull(f, i)
			}
			*(*string)(p) = r.share(i, len(cols), colText(c))
		case sqliteNullText:
			if null {
				*(**string)(p) = nil
			} else {
				*(**string)(p) = r.strs.put(r.arena.text(colText(c)))
			}
		case sqliteInt:
			n, err := colInt(c)
			if err != nil {
				return fmt.Errorf("db: column %d: %w", i, err)
			}
			switch f.field[i].typ.Size() {
			case 8:
				*(*int64)(p) = n
			case 4:
				*(*int32)(p) = int32(n)
			case 2:
				*(*int16)(p) = int16(n)
			default:
				*(*int8)(p) = int8(n)
			}
		case sqliteBool, sqliteNullBool:
			if err := decodeInto(p, c, kind == sqliteNullBool, colBool, &r.bools); err != nil {
				return r.columnError(f, i, err)
			}
		case sqliteTime, sqliteNullTime:
			if err := decodeInto(p, c, kind == sqliteNullTime, colTime, &r.times); err != nil {
				return r.columnError(f, i, err)
			}
		case sqliteFloat64:
			switch c._type {
			case sqliteFloat:
				*(*float64)(p) = float64(c.f)
			case sqliteInteger:
				*(*float64)(p) = float64(c.i)
			default:
				x, err := strconv.ParseFloat(string(colText(c)), 64)
				if err != nil {
					return fmt.Errorf("db: column %d: %w", i, err)
				}
				*(*float64)(p) = x
			}
		case sqliteScanner:
			if err := reflect.NewAt(f.field[i].typ, p).Interface().(sql.Scanner).Scan(colValue(c)); err != nil {
				return fmt.Errorf("db: column %d: %w", i, err)
			}
		}
	}
	return nil
}

func (r *sqliteRowReader) notNull(f *sqliteFields, i int) error {
	return fmt.Errorf("db: NULL in %s's column %d, whose field cannot hold one", f.model, i)
}

var errNull = errors.New("NULL")

func (r *sqliteRowReader) columnError(f *sqliteFields, i int, err error) error {
	if err == errNull {
		return r.notNull(f, i)
	}
	return fmt.Errorf("db: column %d: %w", i, err)
}

// decodeInto decodes c into the V at p, or, nullable, into the *V at p (the value in values).
func decodeInto[V any](p unsafe.Pointer, c *sqliteCol, nullable bool, decode func(*sqliteCol) (V, error), values *slab[V]) error {
	if c._type == sqliteNull {
		if !nullable {
			return errNull
		}
		*(**V)(p) = nil
		return nil
	}
	v, err := decode(c)
	if err != nil {
		return err
	}
	if nullable {
		*(**V)(p) = values.put(v)
	} else {
		*(*V)(p) = v
	}
	return nil
}

// share is column i's string of the bytes b, the same as a recent row's where they repeat.
func (r *sqliteRowReader) share(i, ncols int, b []byte) string {
	if r.recent == nil {
		r.recent = make([]recentText, ncols)
	}
	return r.recent[i].text(b, &r.arena)
}

func colInt(c *sqliteCol) (int64, error) {
	switch c._type {
	case sqliteInteger:
		return int64(c.i), nil
	case sqliteText:
		return strconv.ParseInt(string(colText(c)), 10, 64)
	case sqliteNull:
		return 0, errors.New("NULL into an integer")
	}
	return 0, fmt.Errorf("storage class %d into an integer", c._type)
}

func colBool(c *sqliteCol) (bool, error) {
	switch c._type {
	case sqliteInteger:
		return c.i > 0, nil // as go-sqlite3 reads a BOOLEAN column
	case sqliteText:
		return strconv.ParseBool(string(colText(c)))
	}
	return false, fmt.Errorf("storage class %d into a bool", c._type)
}

// colTime reads a time as go-sqlite3 does for a DATETIME column: text in one of its formats
// (else the zero time), or seconds (milliseconds past 1e12) since the epoch.
func colTime(c *sqliteCol) (time.Time, error) {
	switch c._type {
	case sqliteText:
		b := colText(c)
		s := strings.TrimSuffix(unsafe.String(unsafe.SliceData(b), len(b)), "Z") // time.Parse keeps none of it
		if t, ok := parseStoredTime(s); ok {
			return t, nil
		}
		for _, format := range sqlite3.SQLiteTimestampFormats {
			if t, err := time.ParseInLocation(format, s, time.UTC); err == nil {
				return t, nil
			}
		}
		return time.Time{}, nil
	case sqliteInteger:
		v := int64(c.i)
		if v > 1e12 || v < -1e12 {
			return time.Unix(0, v*int64(time.Millisecond)).UTC(), nil
		}
		return time.Unix(v, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("storage class %d into a time", c._type)
}

// parseStoredTime is the fast path of the one format go-sqlite3 writes times in, in UTC:
// "2006-01-02 15:04:05.999999999+00:00" (what ParseInLocation with its first format returns).
func parseStoredTime(s string) (time.Time, bool) {
	if len(s) < 25 || !strings.HasSuffix(s, "+00:00") {
		return time.Time{}, false
	}
	body := s[:len(s)-6]
	if body[4] != '-' || body[7] != '-' || body[10] != ' ' || body[13] != ':' || body[16] != ':' {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	year, ok1 := num(body[0:4])
	month, ok2 := num(body[5:7])
	day, ok3 := num(body[8:10])
	hour, ok4 := num(body[11:13])
	minute, ok5 := num(body[14:16])
	sec, ok6 := num(body[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := body[19:]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	if day > daysIn(time.Month(month), year) {
		return time.Time{}, false // time.Parse rejects it; the slow path says how
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// colValue is the value go-sqlite3 gives a scanner for a column (of a type other than DATETIME).
func colValue(c *sqliteCol) any {
	switch c._type {
	case sqliteInteger:
		return int64(c.i)
	case sqliteFloat:
		return float64(c.f)
	case sqliteText:
		return string(colText(c))
	case sqliteBlob:
		return append([]byte{}, colText(c)...)
	}
	return nil
}
