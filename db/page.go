package db

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Page sizes of every connection.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page is one keyset page of a list, with a cursor per item.
type Page[T any] struct {
	Items       []*T
	HasNext     bool
	HasPrevious bool
	// Joined is what the read's joins (PageArgs.Joins) found; the pages of one statement share it.
	Joined map[Join]Joined
	// encode makes an item's cursor; cursors are encoded only when asked for, because most
	// clients select nodes and no cursor.
	encode func(item *T) string
}

// Cursor is the cursor of item i.
func (p *Page[T]) Cursor(i int) string { return p.encode(p.Items[i]) }

// Cursors are the cursors of all items, in order.
func (p *Page[T]) Cursors() []string {
	out := make([]string, len(p.Items))
	for i := range p.Items {
		out[i] = p.Cursor(i)
	}
	return out
}

// OrderKey is one sort key: a GraphQL property name (camelCase) and a direction.
type OrderKey struct {
	Field string
	Desc  bool
}

// PageArgs are a connection's Relay arguments and its where filter (one of the *Where types).
type PageArgs struct {
	First, Last   *int
	After, Before *string
	OrderBy       []OrderKey
	Where         any
	// Joins are to-one relationships to read in the page's statement. They change what the read
	// brings along, not which rows it reads, so they are no part of the arguments' identity.
	Joins []Join `json:"-"`
}

// InputError is a client mistake in an argument; the API reports it as BAD_USER_INPUT.
// Argument is the path of the offending value inside the read's arguments (after, orderBy,
// where.processingStatus.in); Err, when set, is the sentinel that says what kind of mistake.
type InputError struct {
	Argument string
	Message  string
	Err      error
}

func (e *InputError) Error() string { return e.Message }
func (e *InputError) Unwrap() error { return e.Err }

// ErrInvalidCursor is an after or before that this connection, in this order, did not give out.
var ErrInvalidCursor = errors.New("invalid cursor")

func badInput(arg, format string, a ...any) error {
	return &InputError{Argument: arg, Message: fmt.Sprintf(format, a...)}
}

// window is a validated PageArgs: the order with the id tie-breaker, the decoded cursor, the size.
type window struct {
	columns   string // what a page reads: the model's columns but the tenant (readColumns)
	filter    *compiledFilter
	keys      []orderColumn
	signature string
	limit     int
	backward  bool  // last/before: read in reverse order, then flip.
	cursor    []any // decoded key values of after or before; nil for the first page.
	hasCursor bool
}

type orderColumn struct {
	field *schema.Field
	desc  bool
}

var schemaCache sync.Map

func parseSchema(model any) (*schema.Schema, error) {
	return schema.Parse(model, &schemaCache, schema.NamingStrategy{})
}

var readColumnLists sync.Map // table and model → its read list

// readColumns is the select list of a read of the model's rows from table: every column but
// tenant_id, which the scope already fixes and nothing reads back (on the dashboard it was one
// string and one boxed value per row in the driver, about an eighth of the request's allocations).
func readColumns(sch *schema.Schema, table string) string {
	key := table + " " + sch.Name
	if c, ok := readColumnLists.Load(key); ok {
		return c.(string)
	}
	var cols []string
	for _, name := range sch.DBNames {
		if name != "tenant_id" {
			cols = append(cols, table+"."+name)
		}
	}
	c := strings.Join(cols, ", ")
	readColumnLists.Store(key, c)
	return c
}

// newWindow checks the Relay arguments against the limits and the model's columns.
func newWindow(model any, table string, args PageArgs, defaultOrder []OrderKey) (*window, error) {
	sch, err := parseSchema(model)
	if err != nil {
		return nil, err
	}
	if args.First != nil && args.Last != nil {
		return nil, badInput("first", "first and last cannot be used together; page forward with first/after or backward with last/before")
	}
	if args.After != nil && args.Before != nil {
		return nil, badInput("after", "after and before cannot be used together")
	}
	if args.Last == nil && args.Before != nil && args.First != nil {
		return nil, badInput("before", "before pages backward: use it with last, not first")
	}
	if args.First == nil && args.After != nil && args.Last != nil {
		return nil, badInput("after", "after pages forward: use it with first, not last")
	}
	w := &window{columns: readColumns(sch, table), limit: DefaultPageSize, backward: args.Last != nil || args.Before != nil}
	for name, n := range map[string]*int{"first": args.First, "last": args.Last} {
		if n == nil {
			continue
		}
		if *n < 0 {
			return nil, badInput(name, "%s must not be negative", name)
		}
		if *n > MaxPageSize {
			return nil, badInput(name, "%s must be at most %d (the maximum page size)", name, MaxPageSize)
		}
		w.limit = *n
	}
	order := args.OrderBy
	if len(order) == 0 {
		order = defaultOrder
	}
	var sig []string
	seen := map[string]bool{}
	// The id tie-breaker runs in the direction of the last key, so one index serves the whole order.
	for _, k := range append(order, OrderKey{Field: "id", Desc: order[len(order)-1].Desc}) {
		f := sch.LookUpField(schema.NamingStrategy{}.ColumnName("", upperFirst(k.Field)))
		if f == nil || f.DBName == "tenant_id" {
			return nil, badInput("orderBy", "%s cannot be sorted by %q", table, k.Field)
		}
		if seen[f.DBName] {
			continue
		}
		seen[f.DBName] = true
		w.keys = append(w.keys, orderColumn{field: f, desc: k.Desc})
		dir := "asc"
		if k.Desc {
			dir = "desc"
		}
		sig = append(sig, f.DBName+":"+dir)
	}
	w.signature = table + "(" + strings.Join(sig, ",") + ")"
	if w.filter, err = compileWhere(args.Where); err != nil {
		return nil, err
	}
	cursor, arg := args.After, "after"
	if args.Before != nil {
		cursor, arg = args.Before, "before"
	}
	if cursor != nil {
		if w.cursor, err = w.decodeCursor(*cursor); err != nil {
			return nil, &InputError{Argument: arg, Err: ErrInvalidCursor,
				Message: arg + " is not a cursor of this connection with this orderBy: " + err.Error()}
		}
		w.hasCursor = true
	}
	return w, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (w *window) encodeCursor(ctx context.Context, item any) string {
	rv := reflect.ValueOf(item)
	values := make([]any, len(w.keys))
	for i, k := range w.keys {
		v, zero := k.field.ValueOf(ctx, rv)
		if zero && k.field.FieldType.Kind() == reflect.Pointer {
			v = nil
		}
		values[i] = cursorValue(v)
	}
	return sealCursor(w.signature, values)
}

// orderClause is the ORDER BY of the window, reversed when reading backward. NULL sorts as the
// smallest value on both engines (SQLite and PostgreSQL disagree by default).
func (w *window) orderClause(qualifier string) string {
	parts := make([]string, len(w.keys))
	for i, k := range w.keys {
		desc := k.desc != w.backward
		col := qualifier + k.field.DBName
		switch {
		case desc && k.field.FieldType.Kind() == reflect.Pointer:
			parts[i] = col + " DESC NULLS LAST"
		case desc:
			parts[i] = col + " DESC"
		case k.field.FieldType.Kind() == reflect.Pointer:
			parts[i] = col + " ASC NULLS FIRST"
		default:
			parts[i] = col + " ASC"
		}
	}
	return strings.Join(parts, ", ")
}

// seekCondition selects the rows past the cursor in reading order:
// OR over i of (keys before i equal AND key i beyond), with NULL as the smallest value.
func (w *window) seekCondition(qualifier string) (string, []any) {
	if !w.hasCursor {
		return "", nil
	}
	var ors []string
	var args []any
	for i := range w.keys {
		var ands []string
		for j := 0; j < i; j++ {
			c, a := w.equal(qualifier, j)
			ands = append(ands, c)
			args = append(args, a...)
		}
		c, a, ok := w.beyond(qualifier, i)
		if !ok {
			continue
		}
		ands = append(ands, c)
		args = append(args, a...)
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	if len(ors) == 0 {
		return "1 = 0", nil
	}
	cond := "(" + strings.Join(ors, " OR ") + ")"
	// A redundant range on the first key lets the database seek in its index instead of
	// walking from the start of the list.
	if bound, a := w.leadingBound(qualifier); bound != "" {
		cond = bound + " AND " + cond
		args = append(a, args...)
	}
	return cond, args
}

// leadingBound is the range of the first key that every row past the cursor lies in.
func (w *window) leadingBound(q string) (string, []any) {
	if len(w.keys) < 2 {
		return "", nil // the id alone: the seek condition is already a range
	}
	col, v := q+w.keys[0].field.DBName, w.cursor[0]
	greater := w.keys[0].desc == w.backward
	switch {
	case v == nil && greater:
		return "", nil
	case v == nil:
		return col + " IS NULL", nil
	case greater:
		return col + " >= ?", []any{v}
	case w.keys[0].field.FieldType.Kind() == reflect.Pointer:
		return "(" + col + " <= ? OR " + col + " IS NULL)", []any{v}
	default:
		return col + " <= ?", []any{v}
	}
}

func (w *window) equal(q string, i int) (string, []any) {
	col := q + w.keys[i].field.DBName
	if w.cursor[i] == nil {
		return col + " IS NULL", nil
	}
	return col + " = ?", []any{w.cursor[i]}
}

// beyond is "key i comes after the cursor's value in reading order"; ok is false when nothing can.
func (w *window) beyond(q string, i int) (string, []any, bool) {
	col := q + w.keys[i].field.DBName
	v := w.cursor[i]
	greater := w.keys[i].desc == w.backward // reading towards larger values
	nullable := w.keys[i].field.FieldType.Kind() == reflect.Pointer
	switch {
	case greater && v == nil:
		return col + " IS NOT NULL", nil, true
	case greater:
		return col + " > ?", []any{v}, true
	case v == nil:
		return "", nil, false
	case nullable:
		return "(" + col + " < ? OR " + col + " IS NULL)", []any{v}, true
	default:
		return col + " < ?", []any{v}, true
	}
}

// list reads one page of query (already scoped and filtered) in the window's order, with the
// targets of joins (planJoins) in the same statement.
func list[T any](ctx context.Context, s *Store, query *gorm.DB, w *window, joins []*joinPlan) (*Page[T], error) {
	q := w.pageQuery(query)
	if len(joins) > 0 {
		q = s.withJoins(ctx, "?", []any{q}, "lcw_page", w, joins)
	}
	rows, joined, err := scanJoined[T](s, q, joins)
	if err != nil {
		return nil, err
	}
	p := toPage(ctx, w, rows)
	p.Joined = joined
	return p, nil
}

// pageQuery narrows query to the window: the where filter, the rows past the cursor, the order,
// and one row more than the page to learn whether more follow.
func (w *window) pageQuery(query *gorm.DB) *gorm.DB {
	q := w.filtered(query.Session(&gorm.Session{}))
	if cond, args := w.seekCondition(""); cond != "" {
		q = q.Where(cond, args...)
	}
	return q.Select(w.columns).Order(w.orderClause("")).Limit(w.limit + 1)
}

// toPage trims the extra row read to learn whether more follow, and puts rows in forward order.
func toPage[T any](ctx context.Context, w *window, rows []*T) *Page[T] {
	p := &Page[T]{}
	more := len(rows) > w.limit
	if more {
		rows = rows[:w.limit]
	}
	if w.backward {
		slices.Reverse(rows)
		p.HasPrevious, p.HasNext = more, w.hasCursor
	} else {
		p.HasNext, p.HasPrevious = more, w.hasCursor
	}
	p.Items = rows
	p.encode = func(item *T) string { return w.encodeCursor(ctx, item) }
	return p
}

// filtered applies the where argument, if any.
func (w *window) filtered(q *gorm.DB) *gorm.DB {
	if w.filter == nil {
		return q
	}
	return q.Where(w.filter.sql, w.filter.args...)
}
