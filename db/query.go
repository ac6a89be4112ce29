package db

import (
	"context"
	"reflect"
	"strings"
	"unsafe"

	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// Table names, as the migrations create them.
const (
	tableTaskDefinitions = "task_definitions"
	tableWorkflows       = "workflows"
	tableTasks           = "tasks"
	tableRuns            = "runs"
	tableTaskReports     = "task_reports"
	tableResults         = "task_processing_results"
	tableUsers           = "users"
	tableUserResults     = "user_processing_results"
	tableVersions        = "workflow_versions"
)

// entities are Graph's entities by name with their tables, parents before children: the one list
// a new entity joins (node(id) looks in each; tests dump and compare each).
var entities = []struct{ name, table string }{
	{"TaskDefinition", tableTaskDefinitions}, {"Workflow", tableWorkflows}, {"Task", tableTasks},
	{"Run", tableRuns}, {"TaskReport", tableTaskReports}, {"TaskProcessingResult", tableResults},
	{"UserProcessingResult", tableUserResults}, {"User", tableUsers},
}

// EntityTables lists the tables of Graph's entities, parents before children, and the workflow
// versions (not a node: Graph keys a version by its number under its workflow).
func EntityTables() []string {
	tables := make([]string, len(entities), len(entities)+1)
	for i, e := range entities {
		tables[i] = e.table
	}
	return append(tables, tableVersions)
}

// Default orders of the connections; id is always appended as the final tie-breaker.
var (
	orderByDisplayName = []OrderKey{{Field: "displayName"}}
	orderByScheduled   = []OrderKey{{Field: "scheduledDateTime", Desc: true}}
	orderByID          = []OrderKey{{Field: "id"}}
)

// Parent names the column that ties a child list to its parent.
type Parent string

const (
	ByWorkflow   Parent = "workflow_id"
	ByRun        Parent = "run_id"
	ByTaskReport Parent = "task_report_id"
	BySubject    Parent = "subject_id"
	// ByRunAndSubject ties a user's task processing results in a run to that user processing
	// result (Graph's userProcessingResults/{id}/taskProcessingResults); its key is
	// RunSubjectKey(runID, subjectID).
	ByRunAndSubject Parent = "run_id,subject_id"
)

// RunSubjectKey is the ByRunAndSubject key of a run and a subject.
func RunSubjectKey(runID, subjectID string) string { return runID + "/" + subjectID }

// columns are the columns of the parent's key, in key order.
func (p Parent) columns() []string { return strings.Split(string(p), ",") }

// match narrows q to the children of the parent whose key is key.
func (p Parent) match(q *gorm.DB, key string) *gorm.DB {
	cols := p.columns()
	parts := strings.SplitN(key, "/", len(cols))
	for i, c := range cols {
		v := ""
		if i < len(parts) {
			v = parts[i]
		}
		q = q.Where(c+" = ?", v)
	}
	return q
}

// keyOf is the parent key a child row holds.
func (p Parent) keyOf(row any) string {
	v := reflect.ValueOf(row).Elem()
	if !strings.Contains(string(p), ",") { // one column, most parents: asked once per row
		return v.FieldByName(parentFields[string(p)]).String()
	}
	cols := p.columns()
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = v.FieldByName(parentFields[c]).String()
	}
	return strings.Join(parts, "/")
}

// parentKeyReader reads the parent key of rows of T as keyOf does, from fields found once
// (keyOf looks each up by name per row: 4% of the dashboard's CPU on its 400 results).
func parentKeyReader[T any](p Parent) func(*T) string {
	cols := p.columns()
	offs := make([]uintptr, len(cols))
	for i, c := range cols {
		f, ok := reflect.TypeFor[T]().FieldByName(parentFields[c])
		if !ok || len(f.Index) != 1 || f.Type.Kind() != reflect.String {
			return func(row *T) string { return p.keyOf(row) }
		}
		offs[i] = f.Offset
	}
	if len(offs) == 1 {
		return func(row *T) string { return *(*string)(unsafe.Add(unsafe.Pointer(row), offs[0])) }
	}
	return func(row *T) string {
		var b strings.Builder
		for i, off := range offs {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(*(*string)(unsafe.Add(unsafe.Pointer(row), off)))
		}
		return b.String()
	}
}

// parentFields are the model fields of the parent columns.
var parentFields = map[string]string{
	"workflow_id": "WorkflowID", "run_id": "RunID", "task_report_id": "TaskReportID", "subject_id": "SubjectID",
}

// Counter counts the whole list behind a connection; it runs only when called.
type Counter func(ctx context.Context) (int, error)

// byIDs loads the rows of table whose ids are in ids, keyed by id.
func byIDs[T any](ctx context.Context, s *Store, table string, ids []string) (map[string]*T, error) {
	norm := make([]string, len(ids))
	for i, id := range ids {
		norm[i] = storedID(id)
	}
	sch, err := parseSchema(new(T))
	if err != nil {
		return nil, err
	}
	rows, err := scanAll[T](s, s.scoped(ctx, table).Select(readColumns(sch, table)).Where("id IN ?", norm))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(rows))
	for _, r := range rows {
		out[idOf(r)] = r
	}
	// Callers ask with the id as the client wrote it.
	for i, id := range ids {
		if r, ok := out[norm[i]]; ok {
			out[id] = r
		}
	}
	return out, nil
}

func idOf(v any) string { return reflect.ValueOf(v).Elem().FieldByName("ID").String() }

func (s *Store) WorkflowsByID(ctx context.Context, ids []string) (map[string]*Workflow, error) {
	return byIDs[Workflow](ctx, s, tableWorkflows, ids)
}

func (s *Store) RunsByID(ctx context.Context, ids []string) (map[string]*Run, error) {
	return byIDs[Run](ctx, s, tableRuns, ids)
}

func (s *Store) TasksByID(ctx context.Context, ids []string) (map[string]*Task, error) {
	return byIDs[Task](ctx, s, tableTasks, ids)
}

func (s *Store) TaskDefinitionsByID(ctx context.Context, ids []string) (map[string]*TaskDefinition, error) {
	return byIDs[TaskDefinition](ctx, s, tableTaskDefinitions, ids)
}

func (s *Store) TaskReportsByID(ctx context.Context, ids []string) (map[string]*TaskReport, error) {
	return byIDs[TaskReport](ctx, s, tableTaskReports, ids)
}

func (s *Store) TaskProcessingResultsByID(ctx context.Context, ids []string) (map[string]*TaskProcessingResult, error) {
	return byIDs[TaskProcessingResult](ctx, s, tableResults, ids)
}

func (s *Store) UserProcessingResultsByID(ctx context.Context, ids []string) (map[string]*UserProcessingResult, error) {
	return byIDs[UserProcessingResult](ctx, s, tableUserResults, ids)
}

func (s *Store) WorkflowVersionsByID(ctx context.Context, ids []string) (map[string]*WorkflowVersion, error) {
	return byIDs[WorkflowVersion](ctx, s, tableVersions, ids)
}

func (s *Store) UsersByID(ctx context.Context, ids []string) (map[string]*User, error) {
	return byIDs[User](ctx, s, tableUsers, ids)
}

// TasksByWorkflow loads the tasks of each workflow in execution order.
func (s *Store) TasksByWorkflow(ctx context.Context, workflowIDs []string) (map[string][]*Task, error) {
	var rows []*Task
	err := s.scoped(ctx, tableTasks).Where("workflow_id IN ?", normalizeAll(workflowIDs)).
		Order("workflow_id, execution_sequence, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*Task, len(workflowIDs))
	for _, r := range rows {
		out[r.WorkflowID] = append(out[r.WorkflowID], r)
	}
	return out, nil
}

func normalizeAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = storedID(id)
	}
	return out
}

// Workflows is a page of the tenant's workflows: those not deleted, or all of them.
func (s *Store) Workflows(ctx context.Context, args PageArgs, includeDeleted bool) (*Page[Workflow], Counter, error) {
	var filter func(*gorm.DB) *gorm.DB
	if !includeDeleted {
		filter = func(q *gorm.DB) *gorm.DB { return q.Where(tableWorkflows + ".deleted_date_time IS NULL") }
	}
	return topLevel[Workflow](ctx, s, tableWorkflows, args, orderByDisplayName, filter)
}

// DeletedWorkflows is a page of the tenant's deleted workflows, newest deleted first.
func (s *Store) DeletedWorkflows(ctx context.Context, args PageArgs) (*Page[Workflow], Counter, error) {
	return topLevel[Workflow](ctx, s, tableWorkflows, args, []OrderKey{{Field: "deletedDateTime", Desc: true}},
		func(q *gorm.DB) *gorm.DB { return q.Where(tableWorkflows + ".deleted_date_time IS NOT NULL") })
}

// VersionsByWorkflow loads the saved versions of each workflow, newest first.
func (s *Store) VersionsByWorkflow(ctx context.Context, workflowIDs []string) (map[string][]*WorkflowVersion, error) {
	var rows []*WorkflowVersion
	err := s.scoped(ctx, tableVersions).Where("workflow_id IN ?", normalizeAll(workflowIDs)).
		Order("workflow_id, version_number DESC").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*WorkflowVersion, len(workflowIDs))
	for _, r := range rows {
		out[r.WorkflowID] = append(out[r.WorkflowID], r)
	}
	return out, nil
}

// TaskDefinitions is a page of the task definition catalogue.
func (s *Store) TaskDefinitions(ctx context.Context, args PageArgs) (*Page[TaskDefinition], Counter, error) {
	return topLevel[TaskDefinition](ctx, s, tableTaskDefinitions, args, orderByDisplayName, nil)
}

// TaskReportFilter narrows Query.taskReports.
type TaskReportFilter struct {
	WorkflowID, RunID *string
}

// TaskReports is a page of task reports across workflows, optionally of one workflow or run.
func (s *Store) TaskReports(ctx context.Context, f TaskReportFilter, args PageArgs) (*Page[TaskReport], Counter, error) {
	return topLevel[TaskReport](ctx, s, tableTaskReports, args, orderByID, func(q *gorm.DB) *gorm.DB {
		if f.WorkflowID != nil {
			q = q.Where("workflow_id = ?", storedID(*f.WorkflowID))
		}
		if f.RunID != nil {
			q = q.Where("run_id = ?", storedID(*f.RunID))
		}
		return q
	})
}

// ResultFilter narrows Query.taskProcessingResults to a workflow, a run or a report.
type ResultFilter struct {
	WorkflowID, RunID, TaskReportID *string
}

// TaskProcessingResults is a page of results of a workflow, run or report; one of them is required
// so that the read starts from an index on a parent.
func (s *Store) TaskProcessingResults(ctx context.Context, f ResultFilter, args PageArgs) (*Page[TaskProcessingResult], Counter, error) {
	if f.WorkflowID == nil && f.RunID == nil && f.TaskReportID == nil {
		return nil, nil, badInput("workflowId", "give workflowId, runId or taskReportId")
	}
	return topLevel[TaskProcessingResult](ctx, s, tableResults, args, orderByID, func(q *gorm.DB) *gorm.DB {
		for col, id := range map[string]*string{"workflow_id": f.WorkflowID, "run_id": f.RunID, "task_report_id": f.TaskReportID} {
			if id != nil {
				q = q.Where(col+" = ?", storedID(*id))
			}
		}
		return q
	})
}

func topLevel[T any](ctx context.Context, s *Store, table string, args PageArgs, order []OrderKey,
	filter func(*gorm.DB) *gorm.DB) (*Page[T], Counter, error) {
	w, err := newWindow(new(T), table, args, order)
	if err != nil {
		return nil, nil, err
	}
	joins, err := planJoins[T](s, table, args.Joins)
	if err != nil {
		return nil, nil, err
	}
	base := func(ctx context.Context) *gorm.DB {
		q := s.scoped(ctx, table)
		if filter != nil {
			q = filter(q)
		}
		return q
	}
	page, err := list[T](ctx, s, base(ctx), w, joins)
	if err != nil {
		return nil, nil, err
	}
	count := func(ctx context.Context) (int, error) {
		var n int64
		err := w.filtered(base(ctx)).Count(&n).Error
		return int(n), err
	}
	return page, count, nil
}

// RunPages, TaskReportPages and TaskProcessingResultPages load one page of children for each
// parent in one statement, so a list of parents with nested lists costs the same at any size.
func (s *Store) RunPages(ctx context.Context, parent Parent, ids []string, args PageArgs) (map[string]*Page[Run], error) {
	return childPages[Run](ctx, s, tableRuns, parent, ids, args, orderByScheduled)
}

func (s *Store) TaskReportPages(ctx context.Context, parent Parent, ids []string, args PageArgs) (map[string]*Page[TaskReport], error) {
	return childPages[TaskReport](ctx, s, tableTaskReports, parent, ids, args, orderByID)
}

func (s *Store) TaskProcessingResultPages(ctx context.Context, parent Parent, ids []string, args PageArgs) (map[string]*Page[TaskProcessingResult], error) {
	return childPages[TaskProcessingResult](ctx, s, tableResults, parent, ids, args, orderByID)
}

// UserProcessingResultPages loads a page of user processing results per run, workflow or subject.
func (s *Store) UserProcessingResultPages(ctx context.Context, parent Parent, ids []string, args PageArgs) (map[string]*Page[UserProcessingResult], error) {
	return childPages[UserProcessingResult](ctx, s, tableUserResults, parent, ids, args, orderByScheduled)
}

// maxCompoundTerms is SQLite's limit on the SELECTs of one UNION ALL.
const maxCompoundTerms = 500

func childPages[T any](ctx context.Context, s *Store, table string, parent Parent, ids []string,
	args PageArgs, order []OrderKey) (map[string]*Page[T], error) {
	w, err := newWindow(new(T), table, args, order)
	if err != nil {
		return nil, err
	}
	joins, err := planJoins[T](s, table, args.Joins)
	if err != nil {
		return nil, err
	}
	ids = normalizeAll(ids)
	out := make(map[string]*Page[T], len(ids))
	if len(ids) == 1 {
		// One parent: a plain keyset read, which stays cheap however deep the page.
		page, err := list[T](ctx, s, parent.match(s.scoped(ctx, table), ids[0]), w, joins)
		if err != nil {
			return nil, err
		}
		out[ids[0]] = page
		return out, nil
	}
	// Many parents: one statement of one small keyset read per parent (children.go).
	groups := make(map[string][]*T, len(ids))
	var joined map[Join]Joined
	keyOf := parentKeyReader[T](parent)
	chunk := len(ids)
	if !s.postgres {
		chunk = maxCompoundTerms
	}
	for start := 0; start < len(ids); start += chunk {
		from, reads := s.childrenRead(tenant.From(ctx), table, parent, ids[start:min(len(ids), start+chunk)], w)
		// SQL keeps no order across UNION ALL or a LATERAL join: sort again (a few rows per parent).
		var q *gorm.DB
		if len(joins) == 0 {
			q = s.db.WithContext(ctx).Raw("SELECT * FROM ("+from+") AS lcw_pages ORDER BY "+w.orderClause("lcw_pages."), reads...)
		} else {
			q = s.withJoins(ctx, from, reads, "lcw_pages", w, joins)
		}
		rows, found, err := scanJoined[T](s, q, joins)
		if err != nil {
			return nil, err
		}
		joined = mergeJoined(joined, found)
		for _, r := range rows {
			p := keyOf(r)
			groups[p] = append(groups[p], r)
		}
	}
	for _, id := range ids {
		out[id] = toPage(ctx, w, groups[id])
		out[id].Joined = joined
	}
	return out, nil
}

// ChildCounts counts the children of each parent that match where, in one statement
// (totalCount of nested lists).
func (s *Store) ChildCounts(ctx context.Context, table string, parent Parent, ids []string, where any) (map[string]int, error) {
	filter, err := compileWhere(where)
	if err != nil {
		return nil, err
	}
	ids = normalizeAll(ids)
	cols := parent.columns()
	// A composite key (at most two columns) is counted per pair and matched to the keys asked
	// for; the first column narrows the read through its index.
	second := "''"
	if len(cols) > 1 {
		second = cols[1]
	}
	firsts := make([]string, len(ids))
	for i, id := range ids {
		firsts[i], _, _ = strings.Cut(id, "/")
	}
	var rows []struct {
		P1, P2 string
		N      int
	}
	q := s.scoped(ctx, table).Select(cols[0]+" AS p1, "+second+" AS p2, COUNT(*) AS n").Where(cols[0]+" IN ?", firsts)
	if filter != nil {
		q = q.Where(filter.sql, filter.args...)
	}
	if err = q.Group(string(parent)).Scan(&rows).Error; err != nil {
		return nil, err
	}
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	out := make(map[string]int, len(ids))
	for _, r := range rows {
		key := r.P1
		if len(cols) > 1 {
			key = RunSubjectKey(r.P1, r.P2)
		}
		if asked[key] {
			out[key] = r.N
		}
	}
	return out, nil
}

// Tables whose children ChildCounts can count.
const (
	CountRuns        = tableRuns
	CountTaskReports = tableTaskReports
	CountResults     = tableResults
	CountUserResults = tableUserResults
)

// NodeKind tells which entity holds id, or "" when none does.
func (s *Store) NodeKind(ctx context.Context, id string) (string, error) {
	id = storedID(id)
	var terms []string
	var reads []any
	for _, kind := range entities {
		terms = append(terms, "?")
		reads = append(reads, s.scoped(ctx, kind.table).Select("'"+kind.name+"' AS kind").Where("id = ?", id))
	}
	var kinds []string
	err := s.db.WithContext(ctx).Raw(strings.Join(terms, " UNION ALL ")+" LIMIT 1", reads...).Scan(&kinds).Error
	if err != nil || len(kinds) == 0 {
		return "", err
	}
	return kinds[0], nil
}
