package db

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gorm.io/gorm/schema"

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
	TaskDefinitionWhere struct {
		And, Or     []*TaskDefinitionWhere
		Not         *TaskDefinitionWhere
		ID          *IDFilter
		DisplayName *StringFilter
		Category    *TaskCategoryFilter
		Version     *IntFilter
	}
)

// virtualColumns are filter properties that are not columns of the filtered table; each is an
// SQL expression over it (the tenant is bound by the caller's scope).
var virtualColumns = map[string]map[string]string{
	tableTaskReports: {
		"task_definition_category": "(SELECT d.category FROM task_definitions d WHERE " + sameTenant("d", tableTaskReports) + " AND d.id = task_reports.task_definition_id)",
	},
	tableResults: {
		"task_definition_id": "(SELECT t.task_definition_id FROM tasks t WHERE " + sameTenant("t", tableResults) + " AND t.id = task_processing_results.task_id)",
	},
}

// compiledFilter is a where argument as one SQL condition with its parameters.
type compiledFilter struct {
	sql  string
	args []any
}

// compileWhere turns a where input (any of the *Where types above) into SQL for table.
// Unknown or over-long input is an InputError naming the path of the offending argument.
func compileWhere(table string, where any) (*compiledFilter, error) {
	rv := reflect.ValueOf(where)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return nil, nil
	}
	c := &whereCompiler{table: table}
	sql, err := c.node(rv, "where", 0)
	if err != nil || sql == "" {
		return nil, err
	}
	return &compiledFilter{sql: sql, args: c.args}, nil
}

type whereCompiler struct {
	table      string
	args       []any
	conditions int
}

func (c *whereCompiler) node(rv reflect.Value, path string, depth int) (string, error) {
	if depth > MaxFilterDepth {
		return "", badInput(path, "%s: and/or/not may nest at most %d levels", path, MaxFilterDepth)
	}
	rv = reflect.Indirect(rv)
	var parts []string
	for i := 0; i < rv.NumField(); i++ {
		f, name := rv.Field(i), rv.Type().Field(i).Name
		if f.IsZero() {
			continue
		}
		switch name {
		case "And", "Or":
			var subs []string
			for j := 0; j < f.Len(); j++ {
				s, err := c.node(f.Index(j), fmt.Sprintf("%s.%s[%d]", path, lowerFirst(name), j), depth+1)
				if err != nil {
					return "", err
				}
				if s != "" {
					subs = append(subs, s)
				}
			}
			if len(subs) > 0 {
				parts = append(parts, "("+strings.Join(subs, " "+strings.ToUpper(name)+" ")+")")
			}
		case "Not":
			s, err := c.node(f, path+".not", depth+1)
			if err != nil {
				return "", err
			}
			if s != "" {
				parts = append(parts, "NOT "+s)
			}
		default:
			s, err := c.property(f.Elem(), name, path+"."+lowerFirst(name))
			if err != nil {
				return "", err
			}
			parts = append(parts, s...)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "(" + strings.Join(parts, " AND ") + ")", nil
}

// property compiles the operators of one property's filter.
func (c *whereCompiler) property(filter reflect.Value, field, path string) ([]string, error) {
	col := schema.NamingStrategy{}.ColumnName("", field)
	expr, nullable := c.table+"."+col, filter.FieldByName("IsNull").IsValid()
	if v, ok := virtualColumns[c.table][col]; ok {
		expr = v
	}
	var out []string
	for i := 0; i < filter.NumField(); i++ {
		op, v := filter.Type().Field(i).Name, filter.Field(i)
		if v.IsZero() && !(v.Kind() == reflect.Slice && !v.IsNil()) {
			continue
		}
		c.conditions++
		if c.conditions > MaxConditions {
			return nil, badInput(path, "where holds more than %d conditions", MaxConditions)
		}
		var value any
		if v.Kind() == reflect.Pointer {
			value = v.Elem().Interface()
		}
		switch op {
		case "Eq":
			out = append(out, expr+" = ?")
		case "Ne":
			// OData's ne is true for a null property; SQL's <> is not.
			if nullable {
				out = append(out, "("+expr+" <> ? OR "+expr+" IS NULL)")
			} else {
				out = append(out, expr+" <> ?")
			}
		case "Lt":
			out = append(out, expr+" < ?")
		case "Le":
			out = append(out, expr+" <= ?")
		case "Gt":
			out = append(out, expr+" > ?")
		case "Ge":
			out = append(out, expr+" >= ?")
		case "In":
			if v.Len() > MaxInList {
				return nil, badInput(path+".in", "%s.in holds %d values; at most %d are allowed", path, v.Len(), MaxInList)
			}
			if v.Len() == 0 {
				out = append(out, "1 = 0")
				continue
			}
			values := make([]any, v.Len())
			for j := range values {
				values[j] = normalizeValue(col, v.Index(j).Interface())
			}
			out = append(out, expr+" IN ?")
			c.args = append(c.args, values)
			continue
		case "IsNull":
			if *v.Interface().(*bool) {
				out = append(out, expr+" IS NULL")
			} else {
				out = append(out, expr+" IS NOT NULL")
			}
			continue
		case "Has":
			// The flags are stored comma-joined: wrap in commas so "joiner" cannot match a longer name.
			out = append(out, "(',' || "+expr+" || ',') LIKE ?")
			c.args = append(c.args, "%,"+escapeLike(fmt.Sprint(value))+",%")
			continue
		default:
			return nil, badInput(path, "unsupported operator %s", op)
		}
		c.args = append(c.args, normalizeValue(col, value))
	}
	return out, nil
}

// normalizeValue gives ids their stored lower-case form and times their UTC form.
func normalizeValue(col string, v any) any {
	switch t := v.(type) {
	case string:
		if col == "id" || strings.HasSuffix(col, "_id") {
			return tenant.NormalizeID(t)
		}
	case time.Time:
		return t.UTC()
	}
	return v
}

func escapeLike(s string) string {
	return strings.NewReplacer("%", "", "_", "", ",", "").Replace(s)
}

// lowerFirst gives the GraphQL name of a Go field: RunID is runId, ID is id.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if strings.HasSuffix(s, "ID") {
		s = strings.TrimSuffix(s, "ID") + "Id"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
