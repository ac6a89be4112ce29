// Package enums binds the store's Go enums to the GraphQL enums (gqlgen.yml): the GraphQL names
// and the unknownFutureValue rule of what clients see live here, not in the store.
package enums

import (
	"fmt"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"lcw-gateway/db"
)

// marshal writes v, or unknownFutureValue for a value Graph added after this build: a client
// only ever sees the values the schema lists.
func marshal[T ~string](v T, values []T) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(appendEnum(nil, v, values)) })
}

// appendEnum is marshal appending to a buffer: the compiled read path (graph/fast.go) writes
// enums with it, so both executors show the same value.
func appendEnum[T ~string](buf []byte, v T, values []T) []byte {
	if !db.Known(v, values) {
		v = db.UnknownFutureValue
	}
	// A GraphQL enum value is a name ([_A-Za-z][_0-9A-Za-z]*): quoted, it needs no escapes.
	buf = append(buf, '"')
	buf = append(buf, v...)
	return append(buf, '"')
}

// AppendProcessingStatus appends MarshalProcessingStatus's JSON.
func AppendProcessingStatus(buf []byte, v db.ProcessingStatus) []byte {
	return appendEnum(buf, v, db.ProcessingStatuses)
}

// AppendExecutionType appends MarshalExecutionType's JSON.
func AppendExecutionType(buf []byte, v db.ExecutionType) []byte {
	return appendEnum(buf, v, db.ExecutionTypes)
}

// AppendWorkflowCategory appends MarshalWorkflowCategory's JSON.
func AppendWorkflowCategory(buf []byte, v db.WorkflowCategory) []byte {
	return appendEnum(buf, v, db.WorkflowCategories)
}

// AppendValueType appends MarshalValueType's JSON.
func AppendValueType(buf []byte, v db.ValueType) []byte { return appendEnum(buf, v, db.ValueTypes) }

// AppendTaskCategory appends MarshalTaskCategory's JSON.
func AppendTaskCategory(buf []byte, v db.TaskCategory) []byte {
	return appendEnum(buf, v, db.TaskCategoryValues)
}

func unmarshal[T ~string](v any, values []T) (T, error) {
	s, ok := v.(string)
	if !ok || !db.Known(T(s), values) {
		return "", fmt.Errorf("%v is not one of %v", v, values)
	}
	return T(s), nil
}

// LifecycleWorkflowProcessingStatus.
func MarshalProcessingStatus(v db.ProcessingStatus) graphql.Marshaler {
	return marshal(v, db.ProcessingStatuses)
}
func UnmarshalProcessingStatus(v any) (db.ProcessingStatus, error) {
	return unmarshal(v, db.ProcessingStatuses)
}

// WorkflowExecutionType.
func MarshalExecutionType(v db.ExecutionType) graphql.Marshaler { return marshal(v, db.ExecutionTypes) }
func UnmarshalExecutionType(v any) (db.ExecutionType, error)    { return unmarshal(v, db.ExecutionTypes) }

// LifecycleWorkflowCategory.
func MarshalWorkflowCategory(v db.WorkflowCategory) graphql.Marshaler {
	return marshal(v, db.WorkflowCategories)
}
func UnmarshalWorkflowCategory(v any) (db.WorkflowCategory, error) {
	return unmarshal(v, db.WorkflowCategories)
}

// LifecycleTaskCategory, one member of the flags.
func MarshalTaskCategory(v db.TaskCategory) graphql.Marshaler {
	return marshal(v, db.TaskCategoryValues)
}
func UnmarshalTaskCategory(v any) (db.TaskCategory, error) {
	return unmarshal(v, db.TaskCategoryValues)
}

// ValueType.
func MarshalValueType(v db.ValueType) graphql.Marshaler { return marshal(v, db.ValueTypes) }
func UnmarshalValueType(v any) (db.ValueType, error)    { return unmarshal(v, db.ValueTypes) }

// TaskReportGroupBy: no unknown values, the store defines them all.
func MarshalGroupBy(v db.GroupBy) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(v))) })
}
func UnmarshalGroupBy(v any) (db.GroupBy, error) {
	s, _ := v.(string)
	if !db.Known(db.GroupBy(s), db.GroupBys) {
		return "", fmt.Errorf("%v is not a valid TaskReportGroupBy", v)
	}
	return db.GroupBy(s), nil
}
