package db

import (
	"reflect"
	"testing"
)

// Every property of every where input is in its table, and every operator field of every
// filter input yields a condition: a field added to an input but not compiled fails here.
func TestEveryFilterFieldCompiles(t *testing.T) {
	check := func(name string, whereType reflect.Type, count func(w reflect.Value) int) {
		for i := 0; i < whereType.NumField(); i++ {
			f := whereType.Field(i)
			if f.Name == "And" || f.Name == "Or" || f.Name == "Not" {
				continue
			}
			w := reflect.New(whereType)
			filter := reflect.New(f.Type.Elem())
			w.Elem().Field(i).Set(filter)
			if n := count(w); n != 1 {
				t.Errorf("%s.%s is in %d entries of its property table, want 1", name, f.Name, n)
			}
			for j := 0; j < filter.Elem().NumField(); j++ {
				op := filter.Elem().Field(j)
				one := reflect.New(f.Type.Elem())
				switch op.Kind() {
				case reflect.Pointer:
					one.Elem().Field(j).Set(reflect.New(op.Type().Elem()))
				case reflect.Slice:
					one.Elem().Field(j).Set(reflect.MakeSlice(op.Type(), 0, 0))
				}
				conds := 0
				for _, c := range one.Interface().(operators).operators() {
					if c != nil {
						conds++
					}
				}
				if conds != 1 {
					t.Errorf("%s.%s.%s yields %d conditions, want 1", name, f.Name, filter.Elem().Type().Field(j).Name, conds)
				}
			}
		}
	}
	check("WorkflowWhere", reflect.TypeFor[WorkflowWhere](), entries(workflowProperties))
	check("RunWhere", reflect.TypeFor[RunWhere](), entries(runProperties))
	check("TaskReportWhere", reflect.TypeFor[TaskReportWhere](), entries(taskReportProperties))
	check("TaskProcessingResultWhere", reflect.TypeFor[TaskProcessingResultWhere](), entries(taskProcessingResultProperties))
	check("TaskDefinitionWhere", reflect.TypeFor[TaskDefinitionWhere](), entries(taskDefinitionProperties))
	check("UserProcessingResultWhere", reflect.TypeFor[UserProcessingResultWhere](), entries(userProcessingResultProperties))
}

// entries counts the properties of a table that read a set field of w.
func entries[W any](props []property[W]) func(w reflect.Value) int {
	return func(w reflect.Value) int {
		n := 0
		for _, p := range props {
			if ops := p.get(w.Interface().(*W)); ops != nil && !reflect.ValueOf(ops).IsNil() {
				n++
			}
		}
		return n
	}
}
