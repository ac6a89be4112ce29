package db

import (
	"database/sql/driver"
	"fmt"
	"strings"
)

// The enums below keep Graph's wire strings. A value Graph adds later is stored as received; the
// API (graph/enums) shows it as UnknownFutureValue, so an upstream change never breaks a query,
// and filters (filter.go) match it by that name.

// UnknownFutureValue is OData's evolvable-enum sentinel.
const UnknownFutureValue = "unknownFutureValue"

// ProcessingStatus is Graph's lifecycleWorkflowProcessingStatus.
type ProcessingStatus string

const (
	StatusQueued              ProcessingStatus = "queued"
	StatusInProgress          ProcessingStatus = "inProgress"
	StatusCompleted           ProcessingStatus = "completed"
	StatusCompletedWithErrors ProcessingStatus = "completedWithErrors"
	StatusCanceled            ProcessingStatus = "canceled"
	StatusFailed              ProcessingStatus = "failed"
	StatusUnknownFutureValue  ProcessingStatus = UnknownFutureValue
)

// ProcessingStatuses lists the known values in Graph's documented order.
var ProcessingStatuses = []ProcessingStatus{StatusQueued, StatusInProgress, StatusCompleted,
	StatusCompletedWithErrors, StatusCanceled, StatusFailed, StatusUnknownFutureValue}

// IsKnown tells whether Graph documents the value.
func (s ProcessingStatus) IsKnown() bool { return Known(s, ProcessingStatuses) }

// ExecutionType is Graph's workflowExecutionType.
type ExecutionType string

const (
	ExecutionScheduled          ExecutionType = "scheduled"
	ExecutionOnDemand           ExecutionType = "onDemand"
	ExecutionUnknownFutureValue ExecutionType = UnknownFutureValue
)

var ExecutionTypes = []ExecutionType{ExecutionScheduled, ExecutionOnDemand, ExecutionUnknownFutureValue}

// WorkflowCategory is Graph's lifecycleWorkflowCategory (single-valued).
type WorkflowCategory string

const (
	WorkflowJoiner WorkflowCategory = "joiner"
	WorkflowLeaver WorkflowCategory = "leaver"
	WorkflowMover  WorkflowCategory = "mover"
)

var WorkflowCategories = []WorkflowCategory{WorkflowJoiner, WorkflowLeaver, WorkflowMover, UnknownFutureValue}

// TaskCategory is one member of Graph's lifecycleTaskCategory flags enum.
type TaskCategory string

const (
	TaskJoiner        TaskCategory = "joiner"
	TaskLeaver        TaskCategory = "leaver"
	TaskMover         TaskCategory = "mover"
	TaskExtensibility TaskCategory = "extensibility"
)

var TaskCategoryValues = []TaskCategory{TaskJoiner, TaskLeaver, TaskMover, TaskExtensibility, UnknownFutureValue}

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

var ValueTypes = []ValueType{"enum", "string", "int", "bool", UnknownFutureValue}

// Known tells whether Graph documents v, one of values (a list above).
func Known[T ~string](v T, values []T) bool {
	for _, k := range values {
		if v == k {
			return true
		}
	}
	return false
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
