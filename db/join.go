package db

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// Join asks a page read to bring, in its own statement, the row that a column of each of its
// rows names in another table (a to-one relationship, as a LEFT JOIN), so that the relationship
// costs no statement of its own. There are no foreign keys: a target may be missing, and is
// then absent from what the read found (Page.Joined), as it would be from a read by id.
type Join struct {
	Key   string // the column of the read's rows that holds the target's id (task_id)
	table string // the target's table
}

// JoinTo is a join on the column key to the table of model C.
func JoinTo[C any](key string) Join {
	table, ok := joinTables[reflect.TypeFor[C]()]
	if !ok {
		panic(fmt.Sprintf("db: no table to join for %s", reflect.TypeFor[C]()))
	}
	return Join{Key: key, table: table}
}

// joinTables are the tables a join can reach, by model.
var joinTables = map[reflect.Type]string{
	reflect.TypeFor[Workflow]():             tableWorkflows,
	reflect.TypeFor[Run]():                  tableRuns,
	reflect.TypeFor[Task]():                 tableTasks,
	reflect.TypeFor[TaskDefinition]():       tableTaskDefinitions,
	reflect.TypeFor[TaskReport]():           tableTaskReports,
	reflect.TypeFor[TaskProcessingResult](): tableResults,
	reflect.TypeFor[User]():                 tableUsers,
	reflect.TypeFor[UserProcessingResult](): tableUserResults,
}

// Joined is what one join found: each target (a pointer to its model) by id, once however many
// rows name it.
type Joined map[string]any

// joinPlan is how a join reads: the target's columns, selected under the names j<i>_<column>,
// and the fields they go to.
type joinPlan struct {
	join    Join
	typ     reflect.Type
	columns []string // the target's columns but tenant_id
	fields  [][]int
	types   []reflect.Type
	id      int // the index of the id among columns
}

var joinPlans sync.Map // Join.table -> *joinPlan (the columns do not depend on the key)

func planJoin(j Join) (*joinPlan, error) {
	if p, ok := joinPlans.Load(j.table); ok {
		cp := *p.(*joinPlan)
		cp.join = j
		return &cp, nil
	}
	var typ reflect.Type
	for t, table := range joinTables {
		if table == j.table {
			typ = t
		}
	}
	if typ == nil {
		return nil, fmt.Errorf("db: no model for joined table %q", j.table)
	}
	sch, err := parseSchema(reflect.New(typ).Interface())
	if err != nil {
		return nil, err
	}
	p := &joinPlan{join: j, typ: typ, id: -1}
	for _, name := range sch.DBNames {
		if name == "tenant_id" {
			continue
		}
		if name == "id" {
			p.id = len(p.columns)
		}
		f := sch.LookUpField(name)
		p.columns = append(p.columns, name)
		p.fields = append(p.fields, f.StructField.Index)
		p.types = append(p.types, f.StructField.Type)
	}
	joinPlans.Store(j.table, p)
	return p, nil
}

// planJoins checks the joins of a read of table (model T) and plans them. A second join to the
// same table is left out (the relationship is then read on its own, as without a join).
//
// Joins are made where reads run through pgx's own scan (PostgreSQL without a read replica):
// there every statement is a round trip to the server, and a target's columns are decoded only
// for the first row that names it (rawRow). SQLite has no round trip to save, and its driver
// decodes every column of every row (parsing each time), so a target named by many rows costs
// more joined than read once on its own. Elsewhere the read ignores its joins and Page.Joined
// stays empty: the relationships are read on their own, as before.
func planJoins[T any](s *Store, table string, joins []Join) ([]*joinPlan, error) {
	if len(joins) == 0 || !s.pgxReads() {
		return nil, nil
	}
	sch, err := parseSchema(new(T))
	if err != nil {
		return nil, err
	}
	var out []*joinPlan
	seen := map[string]bool{table: true}
	for _, j := range joins {
		if seen[j.table] {
			continue
		}
		if f := sch.LookUpField(j.Key); f == nil || f.DBName != j.Key {
			return nil, fmt.Errorf("db: %s has no column %q to join %s on", table, j.Key, j.table)
		}
		seen[j.table] = true
		p, err := planJoin(j)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// withJoins reads from (a subquery's SQL, with its arguments) as alias, with a LEFT JOIN of
// each target, scoped to the tenant like every read, in the window's order.
func (s *Store) withJoins(ctx context.Context, from string, args []any, alias string, w *window, plans []*joinPlan) *gorm.DB {
	head, tail := joinSQL(alias, plans)
	for range plans {
		args = append(args, tenant.From(ctx))
	}
	return s.db.WithContext(ctx).Raw(head+from+tail+" ORDER BY "+w.orderClause(alias+"."), args...)
}

// joinSQLKey names the SQL around the subquery of a joined read: the alias and the joins.
type joinSQLKey struct {
	alias string
	joins [8]Join
}

var joinSQLs sync.Map // joinSQLKey -> [2]string

// joinSQL is what goes before and after the subquery: the select list (the subquery's columns,
// then each target's) and the joins, made once per alias and joins.
func joinSQL(alias string, plans []*joinPlan) (head, tail string) {
	key := joinSQLKey{alias: alias}
	cacheable := len(plans) <= len(key.joins)
	if cacheable {
		for i, p := range plans {
			key.joins[i] = p.join
		}
		if v, ok := joinSQLs.Load(key); ok {
			parts := v.([2]string)
			return parts[0], parts[1]
		}
	}
	var b strings.Builder
	b.WriteString("SELECT " + alias + ".*")
	for i, p := range plans {
		for _, c := range p.columns {
			fmt.Fprintf(&b, ", %s.%s AS j%d_%s", p.join.table, c, i, c)
		}
	}
	b.WriteString(" FROM (")
	head = b.String()
	b.Reset()
	b.WriteString(") AS " + alias)
	for _, p := range plans {
		// The same predicate scoped() writes, so every read of a tenant's table carries it.
		fmt.Fprintf(&b, ` LEFT JOIN %[1]s ON "%[1]s"."tenant_id" = ? AND %[1]s.id = %[2]s.%[3]s`, p.join.table, alias, p.join.Key)
	}
	tail = b.String()
	if cacheable {
		joinSQLs.Store(key, [2]string{head, tail})
	}
	return head, tail
}

// joinScan reads the joined columns of each row: decoded into a target only for the first row
// that names it.
type joinScan struct {
	plans   []*joinPlan
	found   []Joined
	columns int
	fields  []*pgxFields // per plan, bound to the read's columns (bindPgx)
	targets []valueSlab  // per plan, the targets' values
	arena   *textArena   // the read's strings
	dest    []any        // a row's destinations for decoding one target, nil elsewhere
}

func newJoinScan(plans []*joinPlan) *joinScan {
	js := &joinScan{plans: plans, found: make([]Joined, len(plans))}
	for i, p := range plans {
		js.columns += len(p.columns)
		js.found[i] = Joined{}
	}
	return js
}

// joinedColumns is how many columns of a row are joined ones (none without joins).
func (js *joinScan) joinedColumns() int {
	if js == nil {
		return 0
	}
	return js.columns
}

// bindPgx plans the decoding of each target's columns (fds: the joined columns' descriptions).
func (js *joinScan) bindPgx(fds []pgconn.FieldDescription, all int, arena *textArena) {
	js.arena = arena
	off := 0
	for _, p := range js.plans {
		js.targets = append(js.targets, valueSlab{typ: p.typ})
		js.fields = append(js.fields, newPgxFields(p.typ, p.fields, p.types, fds[off:off+len(p.columns)], arena))
		off += len(p.columns)
	}
	js.dest = make([]any, all)
}

// rawRow keeps the targets the current row names: raw holds the row's undecoded values, and
// scan decodes the columns given non-nil destinations, here those of a target not seen before.
func (js *joinScan) rawRow(raw [][]byte, scan func(dest ...any) error) error {
	base := len(raw) - js.columns // the row's own columns come first
	off := base
	for i, p := range js.plans {
		start := off
		off += len(p.columns)
		id := raw[start+p.id]
		if id == nil {
			continue // no target: a LEFT JOIN that found nothing
		}
		if _, ok := js.found[i][string(id)]; ok {
			continue
		}
		v := js.targets[i].next()
		dest := js.dest[start:off]
		js.fields[i].bind(v.UnsafePointer(), dest)
		err := scan(js.dest...)
		clear(dest)
		if err == nil {
			err = js.fields[i].settle(v.UnsafePointer())
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", p.join.table, err)
		}
		js.found[i][js.targetID(i, v.UnsafePointer(), id)] = v.Interface()
	}
	return nil
}

// targetID is the id of a target just decoded at v, as a string: its ID field's where it has one.
func (js *joinScan) targetID(i int, v unsafe.Pointer, raw []byte) string {
	f, id := js.fields[i], js.plans[i].id
	if f.kind[id] == pgxText {
		return *(*string)(unsafe.Add(v, f.fields[id].off))
	}
	return js.arena.text(raw)
}

// valueSlab hands out new values of a type known at run time, up to 64 to an allocation (as
// slab does for a type known at compile time).
type valueSlab struct {
	typ   reflect.Type
	chunk reflect.Value // an array of typ
	used  int
}

// next is a pointer to a new zero value.
func (s *valueSlab) next() reflect.Value {
	if !s.chunk.IsValid() || s.used == s.chunk.Len() {
		n := 4
		if s.chunk.IsValid() {
			n = min(64, 2*s.chunk.Len())
		}
		s.chunk = reflect.New(reflect.ArrayOf(n, s.typ)).Elem()
		s.used = 0
	}
	s.used++
	return s.chunk.Index(s.used - 1).Addr()
}

func (js *joinScan) result() map[Join]Joined {
	out := make(map[Join]Joined, len(js.plans))
	for i, p := range js.plans {
		out[p.join] = js.found[i]
	}
	return out
}

// mergeJoined adds what another statement of the same read found.
func mergeJoined(into, more map[Join]Joined) map[Join]Joined {
	if into == nil {
		return more
	}
	for j, found := range more {
		for id, v := range found {
			into[j][id] = v
		}
	}
	return into
}
