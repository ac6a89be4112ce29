package db

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
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
)

// entities are Graph's entities by name with their tables, parents before children: the one list
// a new entity joins (node(id) looks in each; tests dump and compare each).
var entities = []struct{ name, table string }{
	{"TaskDefinition", tableTaskDefinitions}, {"Workflow", tableWorkflows}, {"Task", tableTasks},
	{"Run", tableRuns}, {"TaskReport", tableTaskReports}, {"TaskProcessingResult", tableResults},
	{"User", tableUsers},
}

// EntityTables lists the tables of Graph's entities, parents before children.
func EntityTables() []string {
	tables := make([]string, len(entities))
	for i, e := range entities {
		tables[i] = e.table
	}
	return tables
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
)

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
	rows, err := scanAll[T](s.scoped(ctx, table).Select(readColumns(sch, table)).Where("id IN ?", norm))
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

// Workflows is a page of every workflow of the tenant.
func (s *Store) Workflows(ctx context.Context, args PageArgs) (*Page[Workflow], Counter, error) {
	return topLevel[Workflow](ctx, s, tableWorkflows, args, orderByDisplayName, nil)
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
	base := func(ctx context.Context) *gorm.DB {
		q := s.scoped(ctx, table)
		if filter != nil {
			q = filter(q)
		}
		return q
	}
	page, err := list[T](ctx, base(ctx), w)
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

// maxCompoundTerms is SQLite's limit on the SELECTs of one UNION ALL.
const maxCompoundTerms = 500

func childPages[T any](ctx context.Context, s *Store, table string, parent Parent, ids []string,
	args PageArgs, order []OrderKey) (map[string]*Page[T], error) {
	w, err := newWindow(new(T), table, args, order)
	if err != nil {
		return nil, err
	}
	ids = normalizeAll(ids)
	out := make(map[string]*Page[T], len(ids))
	if len(ids) == 1 {
		// One parent: a plain keyset read, which stays cheap however deep the page.
		page, err := list[T](ctx, s.scoped(ctx, table).Where(string(parent)+" = ?", ids[0]), w)
		if err != nil {
			return nil, err
		}
		out[ids[0]] = page
		return out, nil
	}
	// Many parents: one statement made of one small keyset read per parent, so a parent costs its
	// page however many children it has (a window function would number them all).
	groups := make(map[string][]*T, len(ids))
	for start := 0; start < len(ids); start += maxCompoundTerms {
		chunk := ids[start:min(len(ids), start+maxCompoundTerms)]
		terms := make([]string, len(chunk))
		reads := make([]any, len(chunk))
		for i, id := range chunk {
			terms[i] = fmt.Sprintf("SELECT * FROM (?) AS p%d", i)
			reads[i] = w.pageQuery(s.scoped(ctx, table).Where(string(parent)+" = ?", id))
		}
		// SQL keeps no order across UNION ALL: sort again (a few rows per parent).
		union := "SELECT * FROM (" + strings.Join(terms, " UNION ALL ") + ") AS lcw_pages ORDER BY " + w.orderClause("")
		rows, err := scanAll[T](s.db.WithContext(ctx).Raw(union, reads...))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			p := reflect.ValueOf(r).Elem().FieldByName(parentField(parent)).String()
			groups[p] = append(groups[p], r)
		}
	}
	for _, id := range ids {
		out[id] = toPage(ctx, w, groups[id])
	}
	return out, nil
}

func parentField(p Parent) string {
	switch p {
	case ByWorkflow:
		return "WorkflowID"
	case ByRun:
		return "RunID"
	default:
		return "TaskReportID"
	}
}

// ChildCounts counts the children of each parent that match where, in one statement
// (totalCount of nested lists).
func (s *Store) ChildCounts(ctx context.Context, table string, parent Parent, ids []string, where any) (map[string]int, error) {
	filter, err := compileWhere(where)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Parent string
		N      int
	}
	q := s.scoped(ctx, table).Select(string(parent)+" AS parent, COUNT(*) AS n").Where(string(parent)+" IN ?", normalizeAll(ids))
	if filter != nil {
		q = q.Where(filter.sql, filter.args...)
	}
	err = q.Group(string(parent)).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(ids))
	for _, r := range rows {
		out[r.Parent] = r.N
	}
	return out, nil
}

// Tables whose children ChildCounts can count.
const (
	CountRuns        = tableRuns
	CountTaskReports = tableTaskReports
	CountResults     = tableResults
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
