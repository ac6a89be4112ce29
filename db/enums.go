package db

import (
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The enums below keep Graph's wire strings. A value Graph adds later is stored as received and
// shown to GraphQL clients as unknownFutureValue, so an upstream change never breaks a query.

// unknownFutureValue is OData's evolvable-enum sentinel.
const unknownFutureValue = "unknownFutureValue"

// ProcessingStatus is Graph's lifecycleWorkflowProcessingStatus.
type ProcessingStatus string

const (
	StatusQueued              ProcessingStatus = "queued"
	StatusInProgress          ProcessingStatus = "inProgress"
	StatusCompleted           ProcessingStatus = "completed"
	StatusCompletedWithErrors ProcessingStatus = "completedWithErrors"
	StatusCanceled            ProcessingStatus = "canceled"
	StatusFailed              ProcessingStatus = "failed"
	StatusUnknownFutureValue  ProcessingStatus = unknownFutureValue
)

// ProcessingStatuses lists the known values in Graph's documented order.
var ProcessingStatuses = []ProcessingStatus{StatusQueued, StatusInProgress, StatusCompleted,
	StatusCompletedWithErrors, StatusCanceled, StatusFailed, StatusUnknownFutureValue}

// IsKnown tells whether Graph documents the value.
func (s ProcessingStatus) IsKnown() bool { return known(s, ProcessingStatuses) }

func (s ProcessingStatus) MarshalGQL(w io.Writer)    { marshalEnum(w, s, ProcessingStatuses) }
func (s *ProcessingStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, s, ProcessingStatuses) }

// ExecutionType is Graph's workflowExecutionType.
type ExecutionType string

const (
	ExecutionScheduled          ExecutionType = "scheduled"
	ExecutionOnDemand           ExecutionType = "onDemand"
	ExecutionUnknownFutureValue ExecutionType = unknownFutureValue
)

var ExecutionTypes = []ExecutionType{ExecutionScheduled, ExecutionOnDemand, ExecutionUnknownFutureValue}

func (e ExecutionType) MarshalGQL(w io.Writer)    { marshalEnum(w, e, ExecutionTypes) }
func (e *ExecutionType) UnmarshalGQL(v any) error { return unmarshalEnum(v, e, ExecutionTypes) }

// WorkflowCategory is Graph's lifecycleWorkflowCategory (single-valued).
type WorkflowCategory string

const (
	WorkflowJoiner WorkflowCategory = "joiner"
	WorkflowLeaver WorkflowCategory = "leaver"
	WorkflowMover  WorkflowCategory = "mover"
)

var WorkflowCategories = []WorkflowCategory{WorkflowJoiner, WorkflowLeaver, WorkflowMover, unknownFutureValue}

func (c WorkflowCategory) MarshalGQL(w io.Writer)    { marshalEnum(w, c, WorkflowCategories) }
func (c *WorkflowCategory) UnmarshalGQL(v any) error { return unmarshalEnum(v, c, WorkflowCategories) }

// TaskCategory is one member of Graph's lifecycleTaskCategory flags enum.
type TaskCategory string

const (
	TaskJoiner        TaskCategory = "joiner"
	TaskLeaver        TaskCategory = "leaver"
	TaskMover         TaskCategory = "mover"
	TaskExtensibility TaskCategory = "extensibility"
)

var TaskCategoryValues = []TaskCategory{TaskJoiner, TaskLeaver, TaskMover, TaskExtensibility, unknownFutureValue}

func (c TaskCategory) MarshalGQL(w io.Writer)    { marshalEnum(w, c, TaskCategoryValues) }
func (c *TaskCategory) UnmarshalGQL(v any) error { return unmarshalEnum(v, c, TaskCategoryValues) }

// TaskCategories is the flags value: Graph sends and the store keeps it comma-joined
// ("joiner,leaver"); GraphQL shows it as a list.
type TaskCategories []TaskCategory

// ParseTaskCategories splits Graph's comma-joined wire form.
func ParseTaskCategories(s string) TaskCategories {
	var out TaskCategories
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, TaskCategory(part))
		}
	}
	return out
}

// String is Graph's comma-joined wire form.
func (c TaskCategories) String() string {
	parts := make([]string, len(c))
	for i, v := range c {
		parts[i] = string(v)
	}
	return strings.Join(parts, ",")
}

func (c TaskCategories) Value() (driver.Value, error) { return c.String(), nil }

func (c *TaskCategories) Scan(src any) error {
	s, err := scanString(src)
	*c = ParseTaskCategories(s)
	return err
}

// ValueType is Graph's valueType of a task definition parameter.
type ValueType string

var ValueTypes = []ValueType{"enum", "string", "int", "bool", unknownFutureValue}

func (t ValueType) MarshalGQL(w io.Writer)    { marshalEnum(w, t, ValueTypes) }
func (t *ValueType) UnmarshalGQL(v any) error { return unmarshalEnum(v, t, ValueTypes) }

func known[T ~string](v T, values []T) bool {
	for _, k := range values {
		if v == k {
			return true
		}
	}
	return false
}

func marshalEnum[T ~string](w io.Writer, v T, values []T) {
	if !known(v, values) {
		v = unknownFutureValue
	}
	_, _ = io.WriteString(w, strconv.Quote(string(v)))
}

func unmarshalEnum[T ~string](v any, dst *T, values []T) error {
	s, ok := v.(string)
	if !ok || !known(T(s), values) {
		return fmt.Errorf("%v is not one of %v", v, values)
	}
	*dst = T(s)
	return nil
}

func scanString(src any) (string, error) {
	switch v := src.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	default:
		return "", fmt.Errorf("cannot scan %T into a string", src)
	}
}
