package graph

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
)

// Prefetching makes batching independent of timing. When a list arrives, the relationships the
// request selected on its items are queued on the loaders for all items at once, before any item
// resolver runs; nested lists carry their own selection in their loader key, so their items are
// queued the same way when their batch returns. A request then costs one statement per
// relationship per level, however many items and however busy the machine.

// selection is what a request asks of the items of a list: the relationships to load for every
// item, each with its raw arguments and, for a nested list, the selection of its items.
type selection struct {
	Relations []relation `json:"r,omitempty"`
}

type relation struct {
	Name  string         `json:"n"`
	Args  map[string]any `json:"a,omitempty"`
	Items *selection     `json:"s,omitempty"`
}

// relationTypes names, per type, the relationships that can be prefetched and their item type;
// list is true for connections.
var relationTypes = map[string]map[string]struct {
	item string
	list bool
}{
	"Workflow":             {"runs": {"Run", true}, "taskReports": {"TaskReport", true}, "tasks": {"Task", false}},
	"Run":                  {"workflow": {"Workflow", false}, "taskReports": {"TaskReport", true}, "taskProcessingResults": {"TaskProcessingResult", true}},
	"TaskReport":           {"task": {"Task", false}, "taskDefinition": {"TaskDefinition", false}, "run": {"Run", false}, "workflow": {"Workflow", false}, "taskProcessingResults": {"TaskProcessingResult", true}},
	"TaskProcessingResult": {"subject": {"User", false}, "task": {"Task", false}, "taskReport": {"TaskReport", false}},
	"Task":                 {"taskDefinition": {"TaskDefinition", false}},
}

// connectionItems is the selection on the items of a connection field of item type typ, merged
// from its nodes and edges { node }.
func connectionItems(op *graphql.OperationContext, sels ast.SelectionSet, typ string) *selection {
	s := &selection{}
	for _, f := range graphql.CollectFields(op, sels, []string{typ + "Connection"}) {
		switch f.Name {
		case "nodes":
			s.add(op, f.Selections, typ)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{typ + "Edge"}) {
				if e.Name == "node" {
					s.add(op, e.Selections, typ)
				}
			}
		}
	}
	return s
}

func (s *selection) add(op *graphql.OperationContext, sels ast.SelectionSet, typ string) {
	kinds := relationTypes[typ]
	for _, f := range graphql.CollectFields(op, sels, []string{typ, "Node"}) {
		kind, ok := kinds[f.Name]
		if !ok {
			continue
		}
		r := relation{Name: f.Name}
		if kind.list {
			r.Args = f.ArgumentMap(op.Variables)
			r.Items = connectionItems(op, f.Selections, kind.item)
		}
		s.Relations = append(s.Relations, r)
	}
	sort.SliceStable(s.Relations, func(i, j int) bool { return s.Relations[i].Name < s.Relations[j].Name })
}

func (s *selection) key() string {
	if s == nil || len(s.Relations) == 0 {
		return ""
	}
	b, _ := json.Marshal(s) // maps marshal with sorted keys: equal selections give equal keys
	return string(b)
}

// pageArgsOf reads a nested list's arguments from the request as written, so the key the
// prefetch queues and the key the field's resolver loads are built the same way. W is the
// list's where type.
func pageArgsOf[W any](raw map[string]any) (db.PageArgs, error) {
	var a struct {
		First, Last   *int
		After, Before *string
		OrderBy       []struct{ Field, Direction string }
		Where         *W
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	if err != nil {
		return db.PageArgs{}, err
	}
	args := db.PageArgs{First: a.First, Last: a.Last, After: a.After, Before: a.Before}
	for _, o := range a.OrderBy {
		args.OrderBy = append(args.OrderBy, db.OrderKey{Field: o.Field, Desc: o.Direction == "desc"})
	}
	if a.Where != nil {
		args.Where = a.Where
	}
	return args, nil
}

// childKey is the loader key of the nested list being resolved (the current field).
func childKey[W any](ctx context.Context, parent db.Parent, parentID, itemType string) (loaders.ChildKey, error) {
	op, fc := graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx)
	return keyFor[W](loaders.For(ctx), parent, parentID, fc.Field.ArgumentMap(op.Variables),
		connectionItems(op, fc.Field.Selections, itemType))
}

func keyFor[W any](l *loaders.Loaders, parent db.Parent, parentID string, raw map[string]any, items *selection) (loaders.ChildKey, error) {
	args, err := pageArgsOf[W](raw)
	if err != nil {
		return loaders.ChildKey{}, err
	}
	sel := items.key()
	if sel != "" {
		l.Remember(sel, items)
	}
	return loaders.NewChildKey(parent, parentID, args, sel), nil
}

// prefetchCurrent queues the relationships the current connection field selects on items.
func prefetchCurrent[T any](ctx context.Context, items []*T, itemType string) {
	op, fc := graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx)
	prefetch(ctx, loaders.For(ctx), items, connectionItems(op, fc.Field.Selections, itemType))
}

// Prefetch is the loaders' hook for the items of a nested list whose batch has returned.
func Prefetch(ctx context.Context, l *loaders.Loaders, items any, remembered any) {
	if s, ok := remembered.(*selection); ok {
		prefetch(ctx, l, items, s)
	}
}

// prefetch queues, for every item, each selected relationship (LoadThunk only registers keys;
// the loaders send one statement per kind when their batch window closes).
func prefetch(ctx context.Context, l *loaders.Loaders, items any, s *selection) {
	if s == nil {
		return
	}
	for _, r := range s.Relations {
		switch items := items.(type) {
		case []*db.TaskReport:
			for _, it := range items {
				switch r.Name {
				case "task":
					l.Task.LoadThunk(ctx, it.TaskID)
				case "taskDefinition":
					l.TaskDefinition.LoadThunk(ctx, it.TaskDefinitionID)
				case "run":
					l.Run.LoadThunk(ctx, it.RunID)
				case "workflow":
					l.Workflow.LoadThunk(ctx, it.WorkflowID)
				case "taskProcessingResults":
					queue[db.TaskProcessingResultWhere](ctx, l, l.ResultPages, db.ByTaskReport, it.ID, r)
				}
			}
		case []*db.TaskProcessingResult:
			for _, it := range items {
				switch r.Name {
				case "subject":
					l.User.LoadThunk(ctx, it.SubjectID)
				case "task":
					l.Task.LoadThunk(ctx, it.TaskID)
				case "taskReport":
					l.TaskReport.LoadThunk(ctx, it.TaskReportID)
				}
			}
		case []*db.Run:
			for _, it := range items {
				switch r.Name {
				case "workflow":
					l.Workflow.LoadThunk(ctx, it.WorkflowID)
				case "taskReports":
					queue[db.TaskReportWhere](ctx, l, l.TaskReportPages, db.ByRun, it.ID, r)
				case "taskProcessingResults":
					queue[db.TaskProcessingResultWhere](ctx, l, l.ResultPages, db.ByRun, it.ID, r)
				}
			}
		case []*db.Workflow:
			for _, it := range items {
				switch r.Name {
				case "tasks":
					l.TasksOfWorkflow.LoadThunk(ctx, it.ID)
				case "runs":
					queue[db.RunWhere](ctx, l, l.RunPages, db.ByWorkflow, it.ID, r)
				case "taskReports":
					if r.Args["runId"] == nil { // with a runId the field runs its own query
						queue[db.TaskReportWhere](ctx, l, l.TaskReportPages, db.ByWorkflow, it.ID, r)
					}
				}
			}
		case []*db.Task:
			for _, it := range items {
				if r.Name == "taskDefinition" {
					l.TaskDefinition.LoadThunk(ctx, it.TaskDefinitionID)
				}
			}
		}
	}
}

// queue registers one nested page; arguments that do not parse are left for the field's own
// resolver to report.
func queue[W any, T any](ctx context.Context, l *loaders.Loaders, pages interface {
	LoadThunk(context.Context, loaders.ChildKey) func() (*db.Page[T], error)
}, parent db.Parent, id string, r relation) {
	if key, err := keyFor[W](l, parent, id, r.Args, r.Items); err == nil {
		pages.LoadThunk(ctx, key)
	}
}
