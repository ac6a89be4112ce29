package db

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"lcw-gateway/tenant"
)

// Bounds on a where argument, so one request cannot build an arbitrarily large statement.
const (
	MaxFilterDepth = 5   // nesting of and/or/not
	MaxInList      = 100 // values in one `in`
	MaxConditions  = 50  // property conditions in one where
)

// The operator inputs. They are the GraphQL input types (bound in gqlgen.yml), with the operators
// of Microsoft Graph's $filter plus in and isNull. All values become bound parameters.
type (
	IDFilter struct {
		Eq, Ne *string
		In     []string
	}
	StringFilter struct {
		Eq, Ne *string
		In     []string
		IsNull *bool
	}
	IntFilter struct {
		Eq, Ne, Lt, Le, Gt, Ge *int
		In                     []int
	}
	DateTimeFilter struct {
		Eq, Ne, Lt, Le, Gt, Ge *time.Time
		IsNull                 *bool
	}
	BooleanFilter struct {
		Eq *bool
	}
	NullFilter struct {
		IsNull *bool
	}
	ProcessingStatusFilter struct {
		Eq, Ne *ProcessingStatus
		In     []ProcessingStatus
	}
	ExecutionTypeFilter struct {
		Eq, Ne *ExecutionType
		In     []ExecutionType
	}
	WorkflowCategoryFilter struct {
		Eq, Ne *WorkflowCategory
		In     []WorkflowCategory
	}
	// TaskCategoryFilter matches the flags value: has is Graph's `category has 'joiner'`.
	TaskCategoryFilter struct {
		Has *TaskCategory
	}
)

// The where inputs, one per listed type: every property Graph lets $filter use, and the ids a
// dashboard needs that Graph lacks.
type (
	WorkflowWhere struct {
		And, Or              []*WorkflowWhere
		Not                  *WorkflowWhere
		ID                   *IDFilter
		DisplayName          *StringFilter
		Category             *WorkflowCategoryFilter
		IsEnabled            *BooleanFilter
		IsSchedulingEnabled  *BooleanFilter
		CreatedDateTime      *DateTimeFilter
		LastModifiedDateTime *DateTimeFilter
	}
	RunWhere struct {
		And, Or               []*RunWhere
		Not                   *RunWhere
		ID                    *IDFilter
		ProcessingStatus      *ProcessingStatusFilter
		WorkflowExecutionType *ExecutionTypeFilter
		ScheduledDateTime     *DateTimeFilter
		StartedDateTime       *DateTimeFilter
		CompletedDateTime     *DateTimeFilter
		LastUpdatedDateTime   *DateTimeFilter
	}
	TaskReportWhere struct {
		And, Or                []*TaskReportWhere
		Not                    *TaskReportWhere
		ID                     *IDFilter
		RunID                  *IDFilter
		TaskID                 *IDFilter
		TaskDefinitionID       *IDFilter
		TaskDefinitionCategory *TaskCategoryFilter
		ProcessingStatus       *ProcessingStatusFilter
		SuccessfulUsersCount   *IntFilter
		FailedUsersCount       *IntFilter
		UnprocessedUsersCount  *IntFilter
		TotalUsersCount        *IntFilter
		StartedDateTime        *DateTimeFilter
		CompletedDateTime      *DateTimeFilter
		LastUpdatedDateTime    *DateTimeFilter
	}
	TaskProcessingResultWhere struct {
		And, Or           []*TaskProcessingResultWhere
		Not               *TaskProcessingResultWhere
		ID                *IDFilter
		RunID             *IDFilter
		TaskReportID      *IDFilter
		TaskID            *IDFilter
		TaskDefinitionID  *IDFilter
		SubjectID         *IDFilter
		ProcessingStatus  *ProcessingStatusFilter
		CreatedDateTime   *DateTimeFilter
		StartedDateTime   *DateTimeFilter
		CompletedDateTime *DateTimeFilter
		FailureReason     *NullFilter
	}
	UserProcessingResultWhere struct {
		And, Or               []*UserProcessingResultWhere
		Not                   *UserProcessingResultWhere
		ID                    *IDFilter
		RunID                 *IDFilter
		SubjectID             *IDFilter
		ProcessingStatus      *ProcessingStatusFilter
		WorkflowExecutionType *ExecutionTypeFilter
		WorkflowVersion       *IntFilter
		ScheduledDateTime     *DateTimeFilter
		StartedDateTime       *DateTimeFilter
		CompletedDateTime     *DateTimeFilter
		FailedTasksCount      *IntFilter
	}
	TaskDefinitionWhere struct {
		And, Or     []*TaskDefinitionWhere
		Not         *TaskDefinitionWhere
		ID          *IDFilter
		DisplayName *StringFilter
		Category    *TaskCategoryFilter
		Version     *IntFilter
	}
)

// property is one filterable property of the where type W: its Graph name (the path of errors),
// the SQL expression it compiles to, and its operator input. Each where type has one table of
// them; the operators come from the input's own type, so no operator is looked up by name.
type property[W any] struct {
	name string
	expr string // a column of the filtered table, or an SQL expression over it
	get  func(*W) operators
}

// column is a property that is a column of the table; virtual is an SQL expression over the
// table (a correlated read of a related row, tied to the same tenant).
func column[W any](table, name, col string, get func(*W) operators) property[W] {
	return property[W]{name: name, expr: table + "." + col, get: get}
}

// where is a where input with its and/or/not branches.
type where[W any] interface {
	*W
	branches() (and, or []*W, not *W)
}

func (w *WorkflowWhere) branches() (and, or []*WorkflowWhere, not *WorkflowWhere) {
	return w.And, w.Or, w.Not
}
func (w *RunWhere) branches() (and, or []*RunWhere, not *RunWhere) { return w.And, w.Or, w.Not }
func (w *TaskReportWhere) branches() (and, or []*TaskReportWhere, not *TaskReportWhere) {
	return w.And, w.Or, w.Not
}
func (w *TaskProcessingResultWhere) branches() (and, or []*TaskProcessingResultWhere, not *TaskProcessingResultWhere) {
	return w.And, w.Or, w.Not
}
func (w *UserProcessingResultWhere) branches() (and, or []*UserProcessingResultWhere, not *UserProcessingResultWhere) {
	return w.And, w.Or, w.Not
}
func (w *TaskDefinitionWhere) branches() (and, or []*TaskDefinitionWhere, not *TaskDefinitionWhere) {
	return w.And, w.Or, w.Not
}

var workflowProperties = []property[WorkflowWhere]{
	column(tableWorkflows, "id", "id", func(w *WorkflowWhere) operators { return w.ID }),
	column(tableWorkflows, "displayName", "display_name", func(w *WorkflowWhere) operators { return w.DisplayName }),
	column(tableWorkflows, "category", "category", func(w *WorkflowWhere) operators { return w.Category }),
	column(tableWorkflows, "isEnabled", "is_enabled", func(w *WorkflowWhere) operators { return w.IsEnabled }),
	column(tableWorkflows, "isSchedulingEnabled", "is_scheduling_enabled", func(w *WorkflowWhere) operators { return w.IsSchedulingEnabled }),
	column(tableWorkflows, "createdDateTime", "created_date_time", func(w *WorkflowWhere) operators { return w.CreatedDateTime }),
	column(tableWorkflows, "lastModifiedDateTime", "last_modified_date_time", func(w *WorkflowWhere) operators { return w.LastModifiedDateTime }),
}

var runProperties = []property[RunWhere]{
	column(tableRuns, "id", "id", func(w *RunWhere) operators { return w.ID }),
	column(tableRuns, "processingStatus", "processing_status", func(w *RunWhere) operators { return w.ProcessingStatus }),
	column(tableRuns, "workflowExecutionType", "workflow_execution_type", func(w *RunWhere) operators { return w.WorkflowExecutionType }),
	column(tableRuns, "scheduledDateTime", "scheduled_date_time", func(w *RunWhere) operators { return w.ScheduledDateTime }),
	column(tableRuns, "startedDateTime", "started_date_time", func(w *RunWhere) operators { return w.StartedDateTime }),
	column(tableRuns, "completedDateTime", "completed_date_time", func(w *RunWhere) operators { return w.CompletedDateTime }),
	column(tableRuns, "lastUpdatedDateTime", "last_updated_date_time", func(w *RunWhere) operators { return w.LastUpdatedDateTime }),
}

var taskReportProperties = []property[TaskReportWhere]{
	column(tableTaskReports, "id", "id", func(w *TaskReportWhere) operators { return w.ID }),
	column(tableTaskReports, "runId", "run_id", func(w *TaskReportWhere) operators { return w.RunID }),
	column(tableTaskReports, "taskId", "task_id", func(w *TaskReportWhere) operators { return w.TaskID }),
	column(tableTaskReports, "taskDefinitionId", "task_definition_id", func(w *TaskReportWhere) operators { return w.TaskDefinitionID }),
	{name: "taskDefinitionCategory", get: func(w *TaskReportWhere) operators { return w.TaskDefinitionCategory },
		expr: "(SELECT d.category FROM task_definitions d WHERE " + sameTenant("d", tableTaskReports) + " AND d.id = task_reports.task_definition_id)"},
	column(tableTaskReports, "processingStatus", "processing_status", func(w *TaskReportWhere) operators { return w.ProcessingStatus }),
	column(tableTaskReports, "successfulUsersCount", "successful_users_count", func(w *TaskReportWhere) operators { return w.SuccessfulUsersCount }),
	column(tableTaskReports, "failedUsersCount", "failed_users_count", func(w *TaskReportWhere) operators { return w.FailedUsersCount }),
	column(tableTaskReports, "unprocessedUsersCount", "unprocessed_users_count", func(w *TaskReportWhere) operators { return w.UnprocessedUsersCount }),
	column(tableTaskReports, "totalUsersCount", "total_users_count", func(w *TaskReportWhere) operators { return w.TotalUsersCount }),
	column(tableTaskReports, "startedDateTime", "started_date_time", func(w *TaskReportWhere) operators { return w.StartedDateTime }),
	column(tableTaskReports, "completedDateTime", "completed_date_time", func(w *TaskReportWhere) operators { return w.CompletedDateTime }),
	column(tableTaskReports, "lastUpdatedDateTime", "last_updated_date_time", func(w *TaskReportWhere) operators { return w.LastUpdatedDateTime }),
}

var taskProcessingResultProperties = []property[TaskProcessingResultWhere]{
	column(tableResults, "id", "id", func(w *TaskProcessingResultWhere) operators { return w.ID }),
	column(tableResults, "runId", "run_id", func(w *TaskProcessingResultWhere) operators { return w.RunID }),
	column(tableResults, "taskReportId", "task_report_id", func(w *TaskProcessingResultWhere) operators { return w.TaskReportID }),
	column(tableResults, "taskId", "task_id", func(w *TaskProcessingResultWhere) operators { return w.TaskID }),
	{name: "taskDefinitionId", get: func(w *TaskProcessingResultWhere) operators { return w.TaskDefinitionID },
		expr: "(SELECT t.task_definition_id FROM tasks t WHERE " + sameTenant("t", tableResults) + " AND t.id = task_processing_results.task_id)"},
	column(tableResults, "subjectId", "subject_id", func(w *TaskProcessingResultWhere) operators { return w.SubjectID }),
	column(tableResults, "processingStatus", "processing_status", func(w *TaskProcessingResultWhere) operators { return w.ProcessingStatus }),
	column(tableResults, "createdDateTime", "created_date_time", func(w *TaskProcessingResultWhere) operators { return w.CreatedDateTime }),
	column(tableResults, "startedDateTime", "started_date_time", func(w *TaskProcessingResultWhere) operators { return w.StartedDateTime }),
	column(tableResults, "completedDateTime", "completed_date_time", func(w *TaskProcessingResultWhere) operators { return w.CompletedDateTime }),
	column(tableResults, "failureReason", "failure_reason", func(w *TaskProcessingResultWhere) operators { return w.FailureReason }),
}

var userProcessingResultProperties = []property[UserProcessingResultWhere]{
	column(tableUserResults, "id", "id", func(w *UserProcessingResultWhere) operators { return w.ID }),
	column(tableUserResults, "runId", "run_id", func(w *UserProcessingResultWhere) operators { return w.RunID }),
	column(tableUserResults, "subjectId", "subject_id", func(w *UserProcessingResultWhere) operators { return w.SubjectID }),
	column(tableUserResults, "processingStatus", "processing_status", func(w *UserProcessingResultWhere) operators { return w.ProcessingStatus }),
	column(tableUserResults, "workflowExecutionType", "workflow_execution_type", func(w *UserProcessingResultWhere) operators { return w.WorkflowExecutionType }),
	column(tableUserResults, "workflowVersion", "workflow_version", func(w *UserProcessingResultWhere) operators { return w.WorkflowVersion }),
	column(tableUserResults, "scheduledDateTime", "scheduled_date_time", func(w *UserProcessingResultWhere) operators { return w.ScheduledDateTime }),
	column(tableUserResults, "startedDateTime", "started_date_time", func(w *UserProcessingResultWhere) operators { return w.StartedDateTime }),
	column(tableUserResults, "completedDateTime", "completed_date_time", func(w *UserProcessingResultWhere) operators { return w.CompletedDateTime }),
	column(tableUserResults, "failedTasksCount", "failed_tasks_count", func(w *UserProcessingResultWhere) operators { return w.FailedTasksCount }),
}

var taskDefinitionProperties = []property[TaskDefinitionWhere]{
	column(tableTaskDefinitions, "id", "id", func(w *TaskDefinitionWhere) operators { return w.ID }),
	column(tableTaskDefinitions, "displayName", "display_name", func(w *TaskDefinitionWhere) operators { return w.DisplayName }),
	column(tableTaskDefinitions, "category", "category", func(w *TaskDefinitionWhere) operators { return w.Category }),
	column(tableTaskDefinitions, "version", "version", func(w *TaskDefinitionWhere) operators { return w.Version }),
}

// compiledFilter is a where argument as one SQL condition with its parameters.
type compiledFilter struct {
	sql  string
	args []any
}

// compileWhere turns a where input (one of the *Where types above) into SQL. Over-long input or
// a value no stored row can hold is an InputError naming the path of the offending argument.
func compileWhere(where any) (*compiledFilter, error) {
	c := &whereCompiler{}
	var sql string
	var err error
	switch w := where.(type) {
	case nil:
	case *WorkflowWhere:
		sql, err = compileNode(c, w, workflowProperties, "where", 0)
	case *RunWhere:
		sql, err = compileNode(c, w, runProperties, "where", 0)
	case *TaskReportWhere:
		sql, err = compileNode(c, w, taskReportProperties, "where", 0)
	case *TaskProcessingResultWhere:
		sql, err = compileNode(c, w, taskProcessingResultProperties, "where", 0)
	case *TaskDefinitionWhere:
		sql, err = compileNode(c, w, taskDefinitionProperties, "where", 0)
	case *UserProcessingResultWhere:
		sql, err = compileNode(c, w, userProcessingResultProperties, "where", 0)
	default:
		return nil, fmt.Errorf("no filter compiles a %T", where) // a programming error: callers pass the types above
	}
	if err != nil || sql == "" {
		return nil, err
	}
	return &compiledFilter{sql: sql, args: c.args}, nil
}

type whereCompiler struct {
	args       []any
	conditions int
}

func compileNode[W any, P where[W]](c *whereCompiler, w P, props []property[W], path string, depth int) (string, error) {
	if w == nil {
		return "", nil
	}
	if depth > MaxFilterDepth {
		return "", badInput(path, "%s: and/or/not may nest at most %d levels", path, MaxFilterDepth)
	}
	and, or, not := w.branches()
	var parts []string
	for _, branch := range []struct {
		name, join string
		subs       []*W
	}{{"and", " AND ", and}, {"or", " OR ", or}} {
		var subs []string
		for j, sub := range branch.subs {
			s, err := compileNode[W, P](c, sub, props, fmt.Sprintf("%s.%s[%d]", path, branch.name, j), depth+1)
			if err != nil {
				return "", err
			}
			if s != "" {
				subs = append(subs, s)
			}
		}
		if len(subs) > 0 {
			parts = append(parts, "("+strings.Join(subs, branch.join)+")")
		}
	}
	if not != nil {
		s, err := compileNode[W, P](c, not, props, path+".not", depth+1)
		if err != nil {
			return "", err
		}
		if s != "" {
			parts = append(parts, "NOT "+s)
		}
	}
	for _, p := range props {
		ops := p.get(w)
		if ops == nil || reflect.ValueOf(ops).IsNil() {
			continue
		}
		t := target{expr: p.expr, path: path + "." + p.name, id: p.name == "id" || strings.HasSuffix(p.name, "Id")}
		for _, cond := range ops.operators() {
			if cond == nil {
				continue
			}
			c.conditions++
			if c.conditions > MaxConditions {
				return "", badInput(t.path, "where holds more than %d conditions", MaxConditions)
			}
			s, args, err := cond(t)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
			c.args = append(c.args, args...)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "(" + strings.Join(parts, " AND ") + ")", nil
}

// target is the property an operator applies to.
type target struct {
	expr string
	path string
	id   bool // ids are compared in their stored lower-case form
}

// condition is one set operator of a filter input compiled for its property: SQL and parameters.
type condition func(t target) (string, []any, error)

// operators is a filter input (IDFilter, IntFilter, ...): the conditions of the operators the
// client set, nil for the others. Each input lists its own operator fields, typed.
type operators interface {
	operators() []condition
}

// comparison is one of OData's comparison operators; nullIsTrue is OData's rule that ne holds for
// a null property, where SQL's <> does not.
type comparison struct {
	name, sql  string
	nullIsTrue bool
}

var (
	opEq = comparison{name: "eq", sql: "="}
	opNe = comparison{name: "ne", sql: "<>", nullIsTrue: true}
	opLt = comparison{name: "lt", sql: "<"}
	opLe = comparison{name: "le", sql: "<="}
	opGt = comparison{name: "gt", sql: ">"}
	opGe = comparison{name: "ge", sql: ">="}
)

func (f *IDFilter) operators() []condition {
	return []condition{compare(opEq, f.Eq, false), compare(opNe, f.Ne, false), within(f.In)}
}

func (f *StringFilter) operators() []condition {
	return []condition{compare(opEq, f.Eq, true), compare(opNe, f.Ne, true), within(f.In), isNull(f.IsNull)}
}

func (f *IntFilter) operators() []condition {
	return []condition{compare(opEq, f.Eq, false), compare(opNe, f.Ne, false), compare(opLt, f.Lt, false),
		compare(opLe, f.Le, false), compare(opGt, f.Gt, false), compare(opGe, f.Ge, false), within(f.In)}
}

func (f *DateTimeFilter) operators() []condition {
	return []condition{compare(opEq, f.Eq, true), compare(opNe, f.Ne, true), compare(opLt, f.Lt, true),
		compare(opLe, f.Le, true), compare(opGt, f.Gt, true), compare(opGe, f.Ge, true), isNull(f.IsNull)}
}

func (f *BooleanFilter) operators() []condition { return []condition{compare(opEq, f.Eq, false)} }

func (f *NullFilter) operators() []condition { return []condition{isNull(f.IsNull)} }

func (f *ProcessingStatusFilter) operators() []condition {
	return enumOperators(f.Eq, f.Ne, f.In, ProcessingStatuses)
}

func (f *ExecutionTypeFilter) operators() []condition {
	return enumOperators(f.Eq, f.Ne, f.In, ExecutionTypes)
}

func (f *WorkflowCategoryFilter) operators() []condition {
	return enumOperators(f.Eq, f.Ne, f.In, WorkflowCategories)
}

func (f *TaskCategoryFilter) operators() []condition { return []condition{hasFlag(f.Has)} }

// compare is "property op value"; nullable properties get OData's ne.
func compare[T any](op comparison, v *T, nullable bool) condition {
	if v == nil {
		return nil
	}
	return func(t target) (string, []any, error) {
		value, err := t.param(*v, "."+op.name)
		if err != nil {
			return "", nil, err
		}
		if op.nullIsTrue && nullable {
			return "(" + t.expr + " " + op.sql + " ? OR " + t.expr + " IS NULL)", []any{value}, nil
		}
		return t.expr + " " + op.sql + " ?", []any{value}, nil
	}
}

func within[T any](values []T) condition {
	if values == nil {
		return nil
	}
	return func(t target) (string, []any, error) {
		if len(values) > MaxInList {
			return "", nil, badInput(t.path+".in", "%s.in holds %d values; at most %d are allowed", t.path, len(values), MaxInList)
		}
		if len(values) == 0 {
			return "1 = 0", nil, nil
		}
		params := make([]any, len(values))
		for i, v := range values {
			p, err := t.param(v, ".in")
			if err != nil {
				return "", nil, err
			}
			params[i] = p
		}
		return t.expr + " IN ?", []any{params}, nil
	}
}

func isNull(v *bool) condition {
	if v == nil {
		return nil
	}
	return func(t target) (string, []any, error) {
		if *v {
			return t.expr + " IS NULL", nil, nil
		}
		return t.expr + " IS NOT NULL", nil, nil
	}
}

// enumOperators compile eq, ne and in over an evolvable enum so that they match what the API
// shows: UnknownFutureValue stands for every stored value outside the known ones.
func enumOperators[T ~string](eq, ne *T, in []T, values []T) []condition {
	known := make([]any, 0, len(values))
	for _, v := range values {
		if v != UnknownFutureValue {
			known = append(known, string(v))
		}
	}
	// is is "property shows as v": the stored value for a known one, none of the known ones for
	// UnknownFutureValue.
	is := func(t target, v T) (string, []any) {
		if v == UnknownFutureValue {
			return t.expr + " NOT IN ?", []any{known}
		}
		return t.expr + " = ?", []any{string(v)}
	}
	var out []condition
	if eq != nil {
		out = append(out, func(t target) (string, []any, error) { s, a := is(t, *eq); return s, a, nil })
	}
	if ne != nil {
		out = append(out, func(t target) (string, []any, error) { s, a := is(t, *ne); return "NOT (" + s + ")", a, nil })
	}
	if in != nil {
		out = append(out, func(t target) (string, []any, error) {
			if len(in) > MaxInList {
				return "", nil, badInput(t.path+".in", "%s.in holds %d values; at most %d are allowed", t.path, len(in), MaxInList)
			}
			if len(in) == 0 {
				return "1 = 0", nil, nil
			}
			var ors []string
			var args []any
			for _, v := range in {
				s, a := is(t, v)
				ors = append(ors, s)
				args = append(args, a...)
			}
			return "(" + strings.Join(ors, " OR ") + ")", args, nil
		})
	}
	return out
}

// hasFlag is Graph's `category has 'joiner'` over the comma-joined flags. has UnknownFutureValue
// matches a value with a member outside the known ones, as the API shows such a member.
func hasFlag(v *TaskCategory) condition {
	if v == nil {
		return nil
	}
	return func(t target) (string, []any, error) {
		wrapped := "(',' || " + t.expr + " || ',')"
		if *v != UnknownFutureValue {
			// Wrapped in commas so "joiner" cannot match a longer name.
			return wrapped + " LIKE ?", []any{"%," + escapeLike(string(*v)) + ",%"}, nil
		}
		rest, args := wrapped, []any{}
		for _, k := range TaskCategoryValues {
			if k != UnknownFutureValue {
				rest = "REPLACE(" + rest + ", ?, ',')"
				args = append(args, ","+string(k)+",")
			}
		}
		return "(" + t.expr + " <> '' AND " + rest + " <> ',')", args, nil
	}
}

// param is a value as the store binds it: ids in their stored lower-case form, times in UTC.
// Text with a NUL byte is refused: PostgreSQL cannot bind it and no stored value holds one.
func (t target) param(v any, op string) (any, error) {
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return nil, badInput(t.path+op, "%s%s holds a NUL character", t.path, op)
		}
		if t.id {
			return tenant.NormalizeID(x), nil
		}
	case int:
		// The count columns are 32-bit: PostgreSQL cannot bind a larger number to them.
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, badInput(t.path+op, "%s%s is out of range (a 32-bit integer)", t.path, op)
		}
	case time.Time:
		return x.UTC(), nil
	}
	return v, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer("%", "", "_", "", ",", "").Replace(s)
}
