package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"lcw-gateway/db"
)

// Sink receives what the walker reads, one batch per page and entity type. The walker never
// touches a database; *db.Store is the Sink that writes, Discard the one that does not.
type Sink interface {
	// Atomic runs fn so that the writes fn makes through the sink, with the context it is
	// given, take effect together or not at all. The walker wraps each page in one call.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error

	UpsertTaskDefinitions(ctx context.Context, rows []db.TaskDefinition) error
	UpsertWorkflows(ctx context.Context, rows []db.Workflow) error
	UpsertTasks(ctx context.Context, rows []db.Task) error
	UpsertRuns(ctx context.Context, rows []db.Run) error
	UpsertTaskReports(ctx context.Context, rows []db.TaskReport) error
	UpsertTaskProcessingResults(ctx context.Context, rows []db.TaskProcessingResult) error
	UpsertUsers(ctx context.Context, rows []db.User) error
	// EnsureUsers adds users known only by id (the subjects of results) and leaves users
	// already stored untouched, so their names survive.
	EnsureUsers(ctx context.Context, rows []db.User) error
}

// Discard is a Sink that writes nothing: walking into it checks a source completely.
type Discard struct{}

func (Discard) Atomic(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }
func (Discard) UpsertTaskDefinitions(context.Context, []db.TaskDefinition) error { return nil }
func (Discard) UpsertWorkflows(context.Context, []db.Workflow) error             { return nil }
func (Discard) UpsertTasks(context.Context, []db.Task) error                     { return nil }
func (Discard) UpsertRuns(context.Context, []db.Run) error                       { return nil }
func (Discard) UpsertTaskReports(context.Context, []db.TaskReport) error         { return nil }
func (Discard) UpsertTaskProcessingResults(context.Context, []db.TaskProcessingResult) error {
	return nil
}
func (Discard) UpsertUsers(context.Context, []db.User) error { return nil }
func (Discard) EnsureUsers(context.Context, []db.User) error { return nil }

// Stats counts what a walk handed to its sink: records of each collection, and distinct ids
// of the entities that also arrive inline (task definitions, tasks, users).
type Stats struct {
	TaskDefinitions       int
	Workflows             int
	Tasks                 int
	Runs                  int
	TaskReports           int
	TaskProcessingResults int
	Users                 int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d task definitions, %d workflows, %d tasks, %d runs, %d task reports, %d task processing results, %d users",
		s.TaskDefinitions, s.Workflows, s.Tasks, s.Runs, s.TaskReports, s.TaskProcessingResults, s.Users)
}

// RecordError says which page, and which record in it, a problem was found in.
type RecordError struct {
	Where string // file or URL of the page
	Index int    // position in the page's value array; -1 when the page itself is at fault
	ID    string // the record's id as written, when it has one
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Where)
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": value[%d]", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %q)", e.ID)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// Graph paths, relative to the service root.
const (
	lifecycleRoot   = "identityGovernance/lifecycleWorkflows"
	taskDefinitions = lifecycleRoot + "/taskDefinitions"
	workflows       = lifecycleRoot + "/workflows"
	users           = "users"
)

// Walk reads every collection the gateway stores from src and hands it to sink in dependency
// order: task definitions, workflows, then per workflow its tasks, runs and task reports (with
// their expanded task and task definition), each report's task processing results (with their
// inline task and subject), and last the users. Only workflows must exist; a source may lack
// any other collection. The first bad record stops the walk with a *RecordError; Stats are
// returned only for a complete walk.
func Walk(ctx context.Context, src Source, sink Sink) (Stats, error) {
	w := &walker{
		src:   src,
		sink:  sink,
		defs:  map[string]db.TaskDefinition{},
		tasks: map[string]db.Task{},
		users: map[string]bool{},
	}
	if err := w.walk(ctx); err != nil {
		return Stats{}, err
	}
	w.stats.TaskDefinitions = len(w.defs)
	w.stats.Tasks = len(w.tasks)
	w.stats.Users = len(w.users)
	return w.stats, nil
}

type walker struct {
	src  Source
	sink Sink
	// What this walk has already sent, so the same task or definition, repeated inline in
	// every report and result, is written once unless it changes.
	defs  map[string]db.TaskDefinition
	tasks map[string]db.Task
	users map[string]bool
	stats Stats
}

// workflowRef keeps the id as Graph wrote it (for paths) and its stored form.
type workflowRef struct{ pathID, id string }

func (w *walker) walk(ctx context.Context) error {
	err := w.each(ctx, Request{Path: taskDefinitions}, true, func(ctx context.Context, p *Page) error {
		defs, err := decode(p, func(_ int, r *wireTaskDefinition) (db.TaskDefinition, error) { return r.model() })
		if err != nil {
			return err
		}
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.upsertDefs(ctx, defs) })
	})
	if err != nil {
		return err
	}

	var refs []workflowRef
	err = w.each(ctx, Request{Path: workflows}, false, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireWorkflow) (db.Workflow, error) { return r.model() })
		if err != nil {
			return err
		}
		for i, row := range rows {
			refs = append(refs, workflowRef{pathID: pathID(p.Value[i]), id: row.ID})
		}
		w.stats.Workflows += len(rows)
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertWorkflows(ctx, rows) })
	})
	if err != nil {
		return err
	}

	for _, wf := range dedupe(refs, func(r workflowRef) string { return r.id }) {
		if err := w.workflow(ctx, wf); err != nil {
			return err
		}
	}

	req := Request{Path: users, Query: url.Values{"$select": {"id,displayName,userPrincipalName,mail"}}}
	return w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireUser) (db.User, error) { return r.model() })
		if err != nil {
			return err
		}
		for _, u := range rows {
			w.users[u.ID] = true
		}
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertUsers(ctx, rows) })
	})
}

func (w *walker) workflow(ctx context.Context, wf workflowRef) error {
	base := collectionPath(workflows, wf.pathID)

	err := w.each(ctx, Request{Path: collectionPath(base, "tasks")}, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireTask) (db.Task, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.upsertTasks(ctx, rows) })
	})
	if err != nil {
		return err
	}

	err = w.each(ctx, Request{Path: collectionPath(base, "runs")}, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireRun) (db.Run, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		w.stats.Runs += len(rows)
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertRuns(ctx, rows) })
	})
	if err != nil {
		return err
	}

	var reports []reportRef
	req := Request{Path: collectionPath(base, "taskReports"), Query: url.Values{"$expand": {"task,taskDefinition"}}}
	err = w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
		var defs []db.TaskDefinition
		var tasks []db.Task
		rows, err := decode(p, func(_ int, r *wireTaskReport) (db.TaskReport, error) {
			report, err := r.model(wf.id)
			if err != nil {
				return report, err
			}
			if r.Task != nil {
				t, err := r.Task.model(wf.id)
				if err != nil {
					return report, fmt.Errorf("task: %w", err)
				}
				tasks = append(tasks, t)
			}
			if r.TaskDefinition != nil {
				d, err := r.TaskDefinition.model()
				if err != nil {
					return report, fmt.Errorf("taskDefinition: %w", err)
				}
				defs = append(defs, d)
			}
			return report, nil
		})
		if err != nil {
			return err
		}
		for i, r := range rows {
			reports = append(reports, reportRef{pathID: pathID(p.Value[i]), id: r.ID, workflowID: wf.id, runID: r.RunID, taskID: r.TaskID})
		}
		w.stats.TaskReports += len(rows)
		return w.sink.Atomic(ctx, func(ctx context.Context) error {
			if err := w.upsertDefs(ctx, defs); err != nil {
				return err
			}
			if err := w.upsertTasks(ctx, tasks); err != nil {
				return err
			}
			return w.sink.UpsertTaskReports(ctx, rows)
		})
	})
	if err != nil {
		return err
	}

	for _, r := range dedupe(reports, func(r reportRef) string { return r.id }) {
		if err := w.results(ctx, base, r); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) results(ctx context.Context, base string, report reportRef) error {
	req := Request{Path: collectionPath(base, "taskReports", report.pathID, "taskProcessingResults")}
	return w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
		var tasks []db.Task
		var subjects []db.User
		rows, err := decode(p, func(_ int, r *wireTaskProcessingResult) (db.TaskProcessingResult, error) {
			result, err := r.model(report)
			if err != nil {
				return result, err
			}
			if r.Task != nil {
				t, err := r.Task.model(report.workflowID)
				if err != nil {
					return result, fmt.Errorf("task: %w", err)
				}
				tasks = append(tasks, t)
			}
			if !w.users[result.SubjectID] {
				w.users[result.SubjectID] = true
				subjects = append(subjects, db.User{ID: result.SubjectID})
			}
			return result, nil
		})
		if err != nil {
			return err
		}
		w.stats.TaskProcessingResults += len(rows)
		return w.sink.Atomic(ctx, func(ctx context.Context) error {
			if err := w.upsertTasks(ctx, tasks); err != nil {
				return err
			}
			if len(subjects) > 0 {
				if err := w.sink.EnsureUsers(ctx, subjects); err != nil {
					return err
				}
			}
			return w.sink.UpsertTaskProcessingResults(ctx, rows)
		})
	})
}

// each calls fn for every page of a collection. A collection the source lacks is an error
// only when it is required.
func (w *walker) each(ctx context.Context, req Request, optional bool, fn func(context.Context, *Page) error) error {
	for page, err := range w.src.Pages(ctx, req) {
		if err != nil {
			if optional && errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(page.Value) == 0 {
			continue
		}
		if err := fn(ctx, page); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) upsertDefs(ctx context.Context, rows []db.TaskDefinition) error {
	rows = unsent(w.defs, rows, func(d db.TaskDefinition) string { return d.ID })
	if len(rows) == 0 {
		return nil
	}
	return w.sink.UpsertTaskDefinitions(ctx, rows)
}

func (w *walker) upsertTasks(ctx context.Context, rows []db.Task) error {
	rows = unsent(w.tasks, rows, func(t db.Task) string { return t.ID })
	if len(rows) == 0 {
		return nil
	}
	return w.sink.UpsertTasks(ctx, rows)
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

// decode converts every record of a page, naming the record in any error.
func decode[W, M any](p *Page, convert func(int, *W) (M, error)) ([]M, error) {
	out := make([]M, 0, len(p.Value))
	for i, raw := range p.Value {
		var wire W
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, &RecordError{Where: p.Where, Index: i, ID: pathID(raw), Err: cleanJSONError(err)}
		}
		m, err := convert(i, &wire)
		if err != nil {
			return nil, &RecordError{Where: p.Where, Index: i, ID: pathID(raw), Err: err}
		}
		out = append(out, m)
	}
	return out, nil
}

// pathID is a record's id as Graph wrote it (trimmed), or "" when it has none.
func pathID(raw json.RawMessage) string {
	var r struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(raw, &r)
	s, _ := r.ID.(string)
	return strings.TrimSpace(s)
}

// cleanJSONError words a type mismatch in Graph's terms instead of Go's.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	want := "a value of another type"
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		want = "an integer"
	case reflect.Slice:
		want = "an array"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		want = "an object"
	}
	if te.Field == "" {
		return fmt.Errorf("record is a JSON %s, want an object", te.Value)
	}
	return fmt.Errorf("%s must be %s, not a JSON %s", te.Field, want, te.Value)
}
