package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// The write side: idempotent upserts by (tenant_id, id), used by every way Graph data comes in
// (import of saved responses, live sync, the demo generator). Rows are written as given, except
// that the tenant comes from the context and timestamps are stored in UTC to the microsecond.
// Callers pass ids in their stored form (NormalizeID). A row whose stored copy has the same
// content is not written again, and every write says how many rows it created, updated and
// left unchanged: that is what makes a repeated import cheap, and what a change feed needs.

// maxVariables bounds the parameters of one statement: SQLite's default limit since 3.32 (the
// bundled driver has 3.45); PostgreSQL allows 65535, so the same budget suits both.
const maxVariables = 32766

// maxStatementRows bounds the rows of one INSERT below that: past a few hundred rows a larger
// statement saves no time, and its compiled form (SQLite's VDBE program, one register per
// parameter) only raises the process's memory high-water mark.
const maxStatementRows = 500

// Batch is one unit of incoming data: rows of each entity, written in dependency order in one
// transaction. The walker hands over one Batch per page of Graph data.
type Batch struct {
	TaskDefinitions []TaskDefinition
	Workflows       []Workflow
	// WorkflowVersions are the saved versions of workflows of this batch or stored already.
	WorkflowVersions []WorkflowVersion
	Tasks            []Task
	Runs             []Run
	TaskReports      []TaskReport
	// Subjects are users known only by id (the subjects of results): added when missing, while
	// a user stored already keeps its names.
	Subjects              []User
	TaskProcessingResults []TaskProcessingResult
	UserProcessingResults []UserProcessingResult
	Users                 []User
}

// Len is the number of rows in the batch.
func (b Batch) Len() int {
	n := 0
	v := reflect.ValueOf(b)
	for i := range v.NumField() {
		n += v.Field(i).Len()
	}
	return n
}

// Append adds the rows of o after those of b, entity by entity. Writing the result is writing b
// then o, as Write applies the entities in dependency order and, for a repeated id, keeps the last.
func (b Batch) Append(o Batch) Batch {
	v, w := reflect.ValueOf(&b).Elem(), reflect.ValueOf(o)
	for i := range v.NumField() {
		if w.Field(i).Len() > 0 {
			v.Field(i).Set(reflect.AppendSlice(v.Field(i), w.Field(i)))
		}
	}
	return b
}

// Counts is what a write did to the rows of one entity it was given.
type Counts struct {
	Created, Updated, Unchanged int
}

// Add sums counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Created + o.Created, c.Updated + o.Updated, c.Unchanged + o.Unchanged}
}

// Total is the number of rows the counts cover.
func (c Counts) Total() int { return c.Created + c.Updated + c.Unchanged }

// Changed tells whether any row was created or updated.
func (c Counts) Changed() bool { return c.Created+c.Updated > 0 }

// String reads "3 created, 1 updated, 0 unchanged".
func (c Counts) String() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged", c.Created, c.Updated, c.Unchanged)
}

// WriteStats are the counts of one or more writes, per entity.
type WriteStats struct {
	TaskDefinitions       Counts
	Workflows             Counts
	WorkflowVersions      Counts
	Tasks                 Counts
	Runs                  Counts
	TaskReports           Counts
	TaskProcessingResults Counts
	UserProcessingResults Counts
	Users                 Counts
}

// statsEntity is one entity of WriteStats: the name logs use, and its table.
type statsEntity struct {
	Name   string
	table  string
	Counts *Counts
}

// entities lists the entities of WriteStats once, in dependency order.
func (s *WriteStats) entities() []statsEntity {
	return []statsEntity{
		{"taskDefinitions", "task_definitions", &s.TaskDefinitions}, {"workflows", "workflows", &s.Workflows},
		{"workflowVersions", "workflow_versions", &s.WorkflowVersions},
		{"tasks", "tasks", &s.Tasks}, {"runs", "runs", &s.Runs}, {"taskReports", "task_reports", &s.TaskReports},
		{"taskProcessingResults", "task_processing_results", &s.TaskProcessingResults},
		{"userProcessingResults", "user_processing_results", &s.UserProcessingResults}, {"users", "users", &s.Users},
	}
}

// Add sums write stats entity by entity.
func (s WriteStats) Add(o WriteStats) WriteStats {
	mine, theirs := s.entities(), o.entities()
	for i := range mine {
		*mine[i].Counts = mine[i].Counts.Add(*theirs[i].Counts)
	}
	return s
}

// Total sums the counts of every entity.
func (s WriteStats) Total() Counts {
	var t Counts
	for _, e := range s.entities() {
		t = t.Add(*e.Counts)
	}
	return t
}

// Each calls fn with every entity's log name and counts, in dependency order.
func (s WriteStats) Each(fn func(entity string, c Counts)) {
	for _, e := range s.entities() {
		fn(e.Name, *e.Counts)
	}
}

// batchEntity is the rows of one entity in a Batch, and how each write path writes them.
type batchEntity struct {
	len    int
	stats  func(*WriteStats) *Counts
	upsert func(ctx context.Context, s *Store) (Counts, error)
	insert func(ctx context.Context, s *Store, l *load) (Counts, error)
}

func entity[T any](rows []T, stats func(*WriteStats) *Counts, policy conflictPolicy) batchEntity {
	return batchEntity{
		len:    len(rows),
		stats:  stats,
		upsert: func(ctx context.Context, s *Store) (Counts, error) { return upsert(ctx, s, rows, policy) },
		insert: func(ctx context.Context, s *Store, l *load) (Counts, error) { return insertRows(ctx, s, l, rows) },
	}
}

// entities lists the rows of b in the order they are written: dependencies first, subjects (ids
// only) before the users collection that names them.
func (b Batch) entities() []batchEntity {
	users := func(w *WriteStats) *Counts { return &w.Users }
	return []batchEntity{
		entity(b.TaskDefinitions, func(w *WriteStats) *Counts { return &w.TaskDefinitions }, updateChanged),
		entity(b.Workflows, func(w *WriteStats) *Counts { return &w.Workflows }, updateChanged),
		entity(b.WorkflowVersions, func(w *WriteStats) *Counts { return &w.WorkflowVersions }, updateChanged),
		entity(b.Tasks, func(w *WriteStats) *Counts { return &w.Tasks }, updateChanged),
		entity(b.Runs, func(w *WriteStats) *Counts { return &w.Runs }, updateChanged),
		entity(b.TaskReports, func(w *WriteStats) *Counts { return &w.TaskReports }, updateChanged),
		entity(b.Subjects, users, keepStored),
		entity(b.TaskProcessingResults, func(w *WriteStats) *Counts { return &w.TaskProcessingResults }, updateChanged),
		entity(b.UserProcessingResults, func(w *WriteStats) *Counts { return &w.UserProcessingResults }, updateChanged),
		entity(b.Users, users, updateChanged),
	}
}

// txKey finds the transaction Atomic opened; keyed by store so two stores never share one.
type txKey struct{ s *Store }

// Atomic runs fn in one transaction: the writes made with the context fn receives join it, and
// all of them commit or none does. A nested call joins the outer transaction.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{s}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{s}, tx))
	})
}

// Write upserts every row of b in one transaction (the caller's, inside Atomic): Graph's latest
// copy of a row wins, every column, except for Subjects, which never overwrite a stored user.
// It also stamps the workflows of b's rows as seen now (Workflow.lastSyncedDateTime).
func (s *Store) Write(ctx context.Context, b Batch) (WriteStats, error) {
	var st WriteStats
	err := s.Atomic(ctx, func(ctx context.Context) error {
		var err error
		if st, err = s.writeEach(ctx, b, func(ctx context.Context, e batchEntity) (Counts, error) { return e.upsert(ctx, s) }); err != nil {
			return err
		}
		return s.stampFreshness(ctx, b)
	})
	return st, err
}

// writeEach writes the entities of b in order, in one transaction, and sums their counts.
func (s *Store) writeEach(ctx context.Context, b Batch, write func(context.Context, batchEntity) (Counts, error)) (WriteStats, error) {
	var st WriteStats
	if b.Len() == 0 {
		return st, nil
	}
	err := s.Atomic(ctx, func(ctx context.Context) error {
		for _, e := range b.entities() {
			if e.len == 0 {
				continue
			}
			c, err := write(ctx, e)
			if err != nil {
				return err
			}
			*e.stats(&st) = e.stats(&st).Add(c)
		}
		return nil
	})
	if err != nil {
		return WriteStats{}, err
	}
	return st, nil
}

// What an upsert does with a row whose (tenant_id, id) is stored already.
type conflictPolicy int

const (
	updateChanged conflictPolicy = iota // Graph's latest copy wins, every column; an equal copy is not written
	keepStored                          // the stored row wins
)

// upsert writes rows of one entity in multi-row statements sized to the variable limit, all in
// one transaction (the caller's, when it runs inside Atomic), and counts what each row did.
func upsert[T any](ctx context.Context, s *Store, rows []T, policy conflictPolicy) (Counts, error) {
	if len(rows) == 0 {
		return Counts{}, nil
	}
	t, err := tableOf[T](s)
	if err != nil {
		return Counts{}, err
	}
	batch, err := prepare(ctx, t, rows)
	if err != nil {
		return Counts{}, err
	}
	var total Counts
	err = s.Atomic(ctx, func(ctx context.Context) error {
		l, _ := ctx.Value(loadKey{s}).(*load)
		conn := writeConn{pool: ctx.Value(txKey{s}).(*gorm.DB).Statement.ConnPool}
		if l != nil && !s.postgres {
			conn.load = l
		}
		compare := l == nil || !l.emptyAtStart[t.name]
		if !compare && l.copier != nil {
			// An empty table: rows this load has not written yet go in by COPY (fresh.go).
			fresh, rest := l.splitFresh(t, batch)
			if len(fresh) > 0 {
				c, err := s.copyFresh(l, t, fresh)
				if err != nil {
					return fmt.Errorf("write %s: %w", t.entity, err)
				}
				total = total.Add(c)
			}
			batch = rest
		}
		size := max(1, min(maxStatementRows, maxVariables/len(t.fields)))
		for i := 0; i < len(batch); i += size {
			chunk, existing := batch[i:min(i+size, len(batch))], -1
			if compare {
				var err error
				var same int
				if chunk, existing, same, err = s.changedRows(ctx, conn, t, chunk, policy); err != nil {
					return fmt.Errorf("write %s: %w", t.entity, err)
				}
				total.Unchanged += same
				if len(chunk) == 0 {
					continue
				}
			}
			c, err := s.upsertChunk(ctx, conn, t, chunk, policy, existing)
			if err != nil {
				return fmt.Errorf("write %s: %w", t.entity, err)
			}
			total = total.Add(c)
		}
		return nil
	})
	return total, err
}

// changedRows reads the stored copies of rows in one statement and keeps the rows that are new
// or differ (for keepStored: that are new), so that an unchanged row costs one indexed read
// instead of an upsert the engine compares; a repeated import then writes almost nothing. It
// returns how many of the kept rows are stored already, and how many were left out as unchanged.
// A row is left out only when every column is equal as the driver would send it; any doubt
// goes to the upsert, whose WHERE decides and counts as before.
func (s *Store) changedRows(ctx context.Context, conn writeConn, t *writeTable, rows []reflect.Value, policy conflictPolicy) (kept []reflect.Value, existing, unchanged int, err error) {
	stored, err := s.storedRows(ctx, conn, t, rows)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(stored) == 0 {
		return rows, 0, 0, nil
	}
	kept = make([]reflect.Value, 0, len(rows)-len(stored))
	for _, r := range rows {
		old, ok := stored[r.Field(t.id).String()]
		switch {
		case !ok:
			kept = append(kept, r)
		case policy == keepStored || old.IsValid() && t.equal(old, r):
			unchanged++
		default:
			kept = append(kept, r)
			existing++
		}
	}
	return kept, existing, unchanged, nil
}

// storedRows reads the stored rows of one tenant with the ids of rows, by id. A stored row that
// does not scan into the model (a value no write of ours stores) maps to the zero Value: it is
// stored, and it will be written again.
func (s *Store) storedRows(ctx context.Context, conn writeConn, t *writeTable, rows []reflect.Value) (map[string]reflect.Value, error) {
	tenant := rows[0].Field(t.tenant).String()
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Field(t.id).String()
	}
	var args []any
	if s.postgres {
		args = []any{tenant, ids} // one array parameter: one cached statement for every chunk
	} else {
		args = make([]any, 0, len(rows)+1)
		args = append(args, tenant)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	q := t.selectSQL(s.postgres, len(rows))
	s.sent(q, args)
	res, err := conn.query(ctx, q, t.keeps(len(rows)), args)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	out := map[string]reflect.Value{}
	dest := make([]any, len(t.fields))
	for res.Next() {
		v := reflect.New(t.typ).Elem()
		for j, f := range t.fields {
			dest[j] = v.Field(f).Addr().Interface()
		}
		if err := res.Scan(dest...); err != nil {
			// Scan the row again, this time its id only, every other column into a sink.
			var id string
			raw := make([]any, len(t.fields))
			for j, f := range t.fields {
				if raw[j] = new(any); f == t.id {
					raw[j] = &id
				}
			}
			if res.Scan(raw...) != nil {
				return nil, err
			}
			out[id] = reflect.Value{}
			continue
		}
		out[v.Field(t.id).String()] = v
	}
	return out, res.Err()
}

// equal tells whether two rows hold the same values in every column, compared as the driver
// values an upsert would send: times as instants (both are stored in UTC to the microsecond,
// so equal instants are equal stored text on SQLite too), everything else by value.
func (t *writeTable) equal(a, b reflect.Value) bool {
	for i, f := range t.fields {
		x, y := a.Field(f), b.Field(f)
		if t.plain[i] { // compared in place: boxing every value cost more than the rest of the comparison
			if x.Kind() == reflect.Pointer {
				if x.IsNil() || y.IsNil() {
					if x.IsNil() != y.IsNil() {
						return false
					}
					continue
				}
				x, y = x.Elem(), y.Elem()
			}
			switch x.Kind() {
			case reflect.String:
				if x.String() != y.String() {
					return false
				}
				continue
			case reflect.Int, reflect.Int32, reflect.Int64:
				if x.Int() != y.Int() {
					return false
				}
				continue
			case reflect.Bool:
				if x.Bool() != y.Bool() {
					return false
				}
				continue
			}
		}
		v, err1 := copyValue(x)
		w, err2 := copyValue(y)
		if err1 != nil || err2 != nil || !sameValue(v, w) {
			return false
		}
	}
	return true
}

func sameValue(x, y any) bool {
	switch x := x.(type) {
	case nil:
		return y == nil
	case time.Time:
		y, ok := y.(time.Time)
		return ok && x.Equal(y)
	case []byte:
		y, ok := y.([]byte)
		return ok && string(x) == string(y)
	case string, bool, int64, int, float64:
		return x == y
	}
	return false
}

// upsertChunk writes rows in one INSERT … ON CONFLICT and counts what it did. PostgreSQL says
// which written rows are new (xmax = 0 on a row this statement inserted). SQLite reports how many
// rows the statement wrote (inserted, or updated because they differ), and a count of the ids
// stored before tells those apart; on PostgreSQL such a count is no good inside a large
// transaction, where the planner, told the table is empty, scans it.
//
// existing, when not negative, is that count known already (changedRows read the rows).
func (s *Store) upsertChunk(ctx context.Context, conn writeConn, t *writeTable, rows []reflect.Value, policy conflictPolicy, existing int) (Counts, error) {
	if existing < 0 && policy == updateChanged && !s.postgres {
		existing = 0
		args := make([]any, 0, len(rows)+1)
		args = append(args, rows[0].Field(t.tenant).String())
		for _, r := range rows {
			args = append(args, r.Field(t.id).String())
		}
		q := t.countSQL(s.postgres, len(rows))
		s.sent(q, args)
		if err := conn.queryRow(ctx, q, t.keeps(len(rows)), args).Scan(&existing); err != nil {
			return Counts{}, err
		}
	}
	args := make([]any, 0, len(rows)*len(t.fields))
	for _, r := range rows {
		for _, f := range t.fields {
			v, err := copyValue(r.Field(f))
			if err != nil {
				return Counts{}, err
			}
			args = append(args, v)
		}
	}
	q := t.upsertSQL(s.postgres, len(rows), policy)
	s.sent(q, args)
	if s.postgres {
		var created, written int
		if err := conn.queryRow(ctx, q, t.keeps(len(rows)), args).Scan(&created, &written); err != nil {
			return Counts{}, err
		}
		return Counts{Created: created, Updated: written - created, Unchanged: len(rows) - written}, nil
	}
	res, err := conn.exec(ctx, q, t.keeps(len(rows)), args)
	if err != nil {
		return Counts{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Counts{}, err
	}
	written := int(n)
	if policy == keepStored {
		return Counts{Created: written, Unchanged: len(rows) - written}, nil
	}
	created := len(rows) - existing
	return Counts{Created: created, Updated: written - created, Unchanged: len(rows) - written}, nil
}

// writeConn is where a write sends its statements: the transaction's connection, and in a
// SQLite bulk load its statements prepared once per load. go-sqlite3 compiles every statement
// it is given afresh, and compiling a 500-row upsert costs about as much as running it.
type writeConn struct {
	pool gorm.ConnPool
	load *load // nil: nothing prepared
}

// stmt is the load's prepared statement for q, when q is one the table keeps (a bounded set).
func (c writeConn) stmt(ctx context.Context, q string, keep bool) (*sql.Stmt, error) {
	if c.load == nil || !keep {
		return nil, nil
	}
	c.load.mu.Lock()
	defer c.load.mu.Unlock()
	if st, ok := c.load.stmts[q]; ok {
		return st, nil
	}
	st, err := c.pool.PrepareContext(ctx, q) // closed by the transaction's end
	if err != nil {
		return nil, err
	}
	c.load.stmts[q] = st
	return st, nil
}

func (c writeConn) query(ctx context.Context, q string, keep bool, args []any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, q, keep)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.pool.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (c writeConn) queryRow(ctx context.Context, q string, keep bool, args []any) interface{ Scan(...any) error } {
	st, err := c.stmt(ctx, q, keep)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return c.pool.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (c writeConn) exec(ctx context.Context, q string, keep bool, args []any) (sql.Result, error) {
	st, err := c.stmt(ctx, q, keep)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.pool.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

// errRow is a row that only reports an error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sent counts and traces a statement sent past GORM, as countStatements does for GORM's own.
func (s *Store) sent(q string, args []any) {
	s.statements.Add(1)
	if fn := s.trace.Load(); fn != nil {
		(*fn)(q, args)
	}
}

// writeTable is a model's table as the upserts write it, parsed once per model.
type writeTable struct {
	typ        reflect.Type
	entity     string
	name       string
	columns    []string // every column, in field order
	fields     []int    // the struct field of each column
	tenant, id int      // struct fields of the key
	times      []int    // struct fields holding a time.Time or *time.Time
	plain      []bool   // per column: a string, integer or bool kind (or a pointer to one) with no driver.Valuer

	mu  sync.Mutex
	sql map[sqlKey]string
}

type sqlKey struct {
	postgres bool
	rows     int
	policy   conflictPolicy
	count    bool
	read     bool
}

var writeTables sync.Map // reflect.Type → *writeTable

func tableOf[T any](s *Store) (*writeTable, error) {
	typ := reflect.TypeFor[T]()
	if t, ok := writeTables.Load(typ); ok {
		return t.(*writeTable), nil
	}
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(reflect.New(typ).Interface()); err != nil {
		return nil, err
	}
	t := &writeTable{typ: typ, entity: typ.Name(), name: stmt.Schema.Table, sql: map[sqlKey]string{}}
	for _, f := range stmt.Schema.Fields {
		if f.DBName == "" || len(f.StructField.Index) != 1 {
			continue
		}
		t.columns = append(t.columns, f.DBName)
		t.fields = append(t.fields, f.StructField.Index[0])
		ft := f.StructField.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		valuer := ft.Implements(reflect.TypeFor[driver.Valuer]()) || reflect.PointerTo(ft).Implements(reflect.TypeFor[driver.Valuer]())
		switch ft.Kind() {
		case reflect.String, reflect.Int, reflect.Int32, reflect.Int64, reflect.Bool:
			t.plain = append(t.plain, !valuer)
		default:
			t.plain = append(t.plain, false)
		}
	}
	tenant, ok1 := typ.FieldByName("TenantID")
	id, ok2 := typ.FieldByName("ID")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("write %s: the model has no TenantID and ID", t.entity)
	}
	t.tenant, t.id = tenant.Index[0], id.Index[0]
	for i := range typ.NumField() {
		switch typ.Field(i).Type {
		case reflect.TypeFor[time.Time](), reflect.TypeFor[*time.Time]():
			t.times = append(t.times, i)
		}
	}
	actual, _ := writeTables.LoadOrStore(typ, t)
	return actual.(*writeTable), nil
}

// placeholders writes n placeholders from number first on, in the engine's syntax.
func placeholders(b *strings.Builder, postgres bool, first, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if postgres {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(first + i))
		} else {
			b.WriteByte('?')
		}
	}
}

// keeps tells whether statements for n rows are kept: those of full chunks, and of one row. The
// last, shorter chunk of a write has any length, and keeping each would grow without bound.
func (t *writeTable) keeps(n int) bool {
	return n <= 1 || n == max(1, min(maxStatementRows, maxVariables/len(t.fields)))
}

// cached builds a statement once per key, when keeps says so.
func (t *writeTable) cached(k sqlKey, build func(b *strings.Builder)) string {
	if !t.keeps(k.rows) {
		var b strings.Builder
		build(&b)
		return b.String()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.sql[k]; ok {
		return q
	}
	var b strings.Builder
	build(&b)
	t.sql[k] = b.String()
	return t.sql[k]
}

// countSQL counts the stored rows of one tenant among n ids.
func (t *writeTable) countSQL(postgres bool, n int) string {
	return t.cached(sqlKey{postgres: postgres, rows: n, count: true}, func(b *strings.Builder) {
		b.WriteString("SELECT count(*) FROM " + t.name + " WHERE tenant_id = ")
		placeholders(b, postgres, 1, 1)
		b.WriteString(" AND id IN (")
		placeholders(b, postgres, 2, n)
		b.WriteString(")")
	})
}

// selectSQL reads every column of the stored rows of one tenant among n ids (on PostgreSQL,
// given as one array).
func (t *writeTable) selectSQL(postgres bool, n int) string {
	if postgres {
		n = 0
	}
	return t.cached(sqlKey{postgres: postgres, rows: n, read: true}, func(b *strings.Builder) {
		b.WriteString("SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.name + " WHERE tenant_id = ")
		placeholders(b, postgres, 1, 1)
		if postgres {
			b.WriteString(" AND id = ANY($2)")
			return
		}
		b.WriteString(" AND id IN (")
		placeholders(b, postgres, 2, n)
		b.WriteString(")")
	})
}

// upsertSQL inserts n rows; a row already stored is updated only where it differs (updateChanged),
// or left alone (keepStored), so the rows the engine reports as affected are exactly the ones
// written. On PostgreSQL the statement returns one row: the rows created, and the rows written.
func (t *writeTable) upsertSQL(postgres bool, n int, policy conflictPolicy) string {
	return t.cached(sqlKey{postgres: postgres, rows: n, policy: policy}, func(b *strings.Builder) {
		cols := strings.Join(t.columns, ", ")
		if postgres {
			// One row back: how many rows the INSERT created, and how many it wrote.
			b.WriteString("WITH written AS (")
			defer b.WriteString(" RETURNING (xmax = 0) AS created) SELECT count(*) FILTER (WHERE created), count(*) FROM written")
		}
		b.WriteString("INSERT INTO " + t.name + " (" + cols + ") VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			placeholders(b, postgres, 1+i*len(t.columns), len(t.columns))
			b.WriteByte(')')
		}
		b.WriteString(" ON CONFLICT (tenant_id, id) DO ")
		if policy == keepStored {
			b.WriteString("NOTHING")
			return
		}
		var set, stored, incoming []string
		for _, c := range t.columns {
			if c == "tenant_id" || c == "id" {
				continue
			}
			set = append(set, c+" = excluded."+c)
			stored = append(stored, t.name+"."+c)
			incoming = append(incoming, "excluded."+c)
		}
		distinct := " IS NOT " // SQLite's null-safe comparison, row values included
		if postgres {
			distinct = " IS DISTINCT FROM "
		}
		b.WriteString("UPDATE SET " + strings.Join(set, ", ") +
			" WHERE (" + strings.Join(stored, ", ") + ")" + distinct + "(" + strings.Join(incoming, ", ") + ")")
	})
}

// prepare copies rows (the caller's keep their values), stamps the context's tenant, stores
// timestamps in UTC to the microsecond (what PostgreSQL keeps, and the one text layout SQLite
// compares correctly) and keeps the last of rows that share an id: PostgreSQL refuses to
// update one row twice in a statement.
func prepare[T any](ctx context.Context, t *writeTable, rows []T) ([]reflect.Value, error) {
	tenant := tenant.From(ctx)
	out := make([]reflect.Value, 0, len(rows))
	at := make(map[string]int, len(rows))
	for i := range rows {
		v := reflect.New(reflect.TypeFor[T]()).Elem()
		v.Set(reflect.ValueOf(rows[i]))
		id := v.Field(t.id).String()
		if id == "" {
			return nil, fmt.Errorf("write %s: row %d has no id", t.entity, i)
		}
		v.Field(t.tenant).SetString(tenant)
		for _, f := range t.times {
			normalizeTime(v.Field(f))
		}
		if j, ok := at[id]; ok {
			out[j] = v
			continue
		}
		at[id] = len(out)
		out = append(out, v)
	}
	return out, nil
}

func normalizeTime(f reflect.Value) {
	switch t := f.Interface().(type) {
	case time.Time:
		f.Set(reflect.ValueOf(storedTime(t)))
	case *time.Time:
		if t != nil {
			u := storedTime(*t)
			f.Set(reflect.ValueOf(&u)) // a new pointer: the caller's value stays as it was
		}
	}
}

func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
