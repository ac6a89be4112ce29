package msgraph

import (
	"lcw-gateway/db"
	"reflect"
)

// unsentDefs keeps the task definitions this walk has not sent yet, or sent with other content.
func (w *walker) unsentDefs(rows []db.TaskDefinition) []db.TaskDefinition {
	w.mu.Lock()
	defer w.mu.Unlock()
	return unsent(w.defs, rows, func(d db.TaskDefinition) string { return d.ID })
}

// unsentTasks keeps the tasks this walk has not sent yet, or sent with other content.
func (w *walker) unsentTasks(rows []db.Task) []db.Task {
	w.mu.Lock()
	defer w.mu.Unlock()
	return unsent(w.tasks, rows, func(t db.Task) string { return t.ID })
}

// unsent keeps the rows that differ from what this walk already sent under the same id, and
// remembers them as sent. Within rows, the last of a repeated id wins.
func unsent[T any](sent map[string]T, rows []T, id func(T) string) []T {
	var out []T
	for _, r := range dedupe(rows, id) {
		if prev, ok := sent[id(r)]; ok && reflect.DeepEqual(prev, r) {
			continue
		}
		sent[id(r)] = r
		out = append(out, r)
	}
	return out
}

// dedupe drops earlier rows whose id repeats later, keeping the order of the survivors.
func dedupe[T any](rows []T, id func(T) string) []T {
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		last[id(r)] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]T, 0, len(last))
	for i, r := range rows {
		if last[id(r)] == i {
			out = append(out, r)
		}
	}
	return out
}
