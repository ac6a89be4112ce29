package enums

import (
	"strconv"
	"testing"

	"lcw-gateway/db"
)

// appendEnum quotes without escaping: every value it can write must be a GraphQL name, which
// strconv.Quote (what it used before) would write the same.
func TestAppendEnumQuotesAsStrconv(t *testing.T) {
	check := func(got []byte, v string) {
		t.Helper()
		if want := strconv.Quote(v); string(got) != want {
			t.Errorf("%q written as %s, want %s", v, got, want)
		}
	}
	for _, v := range db.ProcessingStatuses {
		check(AppendProcessingStatus(nil, v), string(v))
	}
	for _, v := range db.ExecutionTypes {
		check(AppendExecutionType(nil, v), string(v))
	}
	for _, v := range db.WorkflowCategories {
		check(AppendWorkflowCategory(nil, v), string(v))
	}
	for _, v := range db.ValueTypes {
		check(AppendValueType(nil, v), string(v))
	}
	for _, v := range db.TaskCategoryValues {
		check(AppendTaskCategory(nil, v), string(v))
	}
	check(AppendProcessingStatus(nil, `new "status"\`), db.UnknownFutureValue)
}
