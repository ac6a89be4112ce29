package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/graph/model"
)

// The relationship registry: every field that leads from one object to others, with its parent
// type and field, its child type and the key it follows. The prefetcher walks it (prefetch.go),
// the field resolvers load through the same entries, and node(id) finds the entities here. A new
// relationship is one entry below, and its resolver calls it.

// relation is one relationship field; prefetch reads it for all parents (a []*P) in one
// statement, then prefetches what the request selected on the children.
type relation interface {
	names() (parent, field string)
	prefetch(ctx context.Context, l *loaders.Loaders, parents any, f graphql.CollectedField)
}

// The entities, by GraphQL type name.
var (
	workflows         = entity[db.Workflow]{"Workflow", func(l *loaders.Loaders) *loaders.ByID[db.Workflow] { return l.Workflow }}
	runs              = entity[db.Run]{"Run", func(l *loaders.Loaders) *loaders.ByID[db.Run] { return l.Run }}
	tasks             = entity[db.Task]{"Task", func(l *loaders.Loaders) *loaders.ByID[db.Task] { return l.Task }}
	definitions       = entity[db.TaskDefinition]{"TaskDefinition", func(l *loaders.Loaders) *loaders.ByID[db.TaskDefinition] { return l.TaskDefinition }}
	reports           = entity[db.TaskReport]{"TaskReport", func(l *loaders.Loaders) *loaders.ByID[db.TaskReport] { return l.TaskReport }}
	results           = entity[db.TaskProcessingResult]{"TaskProcessingResult", func(l *loaders.Loaders) *loaders.ByID[db.TaskProcessingResult] { return l.TaskProcessingResult }}
	users             = entity[db.User]{"User", func(l *loaders.Loaders) *loaders.ByID[db.User] { return l.User }}
	workflowsTasks    = entity[[]*db.Task]{"Task", func(l *loaders.Loaders) *loaders.ByID[[]*db.Task] { return l.TasksOfWorkflow }}
	userResults       = entity[db.UserProcessingResult]{"UserProcessingResult", func(l *loaders.Loaders) *loaders.ByID[db.UserProcessingResult] { return l.UserProcessingResult }}
	versions          = entity[db.WorkflowVersion]{"WorkflowVersion", func(l *loaders.Loaders) *loaders.ByID[db.WorkflowVersion] { return l.WorkflowVersion }}
	workflowsVersions = entity[[]*db.WorkflowVersion]{"WorkflowVersion", func(l *loaders.Loaders) *loaders.ByID[[]*db.WorkflowVersion] {
		return l.VersionsOfWorkflow
	}}
)

// nodeKinds answers node(id) once the store has told which entity holds the id.
var nodeKinds = map[string]func(ctx context.Context, id string) (model.Node, error){
	"Workflow":             nodeOf[db.Workflow](workflows),
	"Run":                  nodeOf[db.Run](runs),
	"Task":                 nodeOf[db.Task](tasks),
	"TaskDefinition":       nodeOf[db.TaskDefinition](definitions),
	"TaskReport":           nodeOf[db.TaskReport](reports),
	"TaskProcessingResult": nodeOf[db.TaskProcessingResult](results),
	"User":                 nodeOf[db.User](users),
	"UserProcessingResult": nodeOf[db.UserProcessingResult](userResults),
}

// The nested connections.
var (
	workflowRuns = &many[db.Workflow, db.Run]{parent: "Workflow", field: "runs", child: "Run", by: db.ByWorkflow,
		id: func(w *db.Workflow) string { return w.ID }, pages: func(l *loaders.Loaders) *loaders.Pages[db.Run] { return l.RunPages },
		args: (*executionContext).field_Workflow_runs_args}
	workflowReports = &many[db.Workflow, db.TaskReport]{parent: "Workflow", field: "taskReports", child: "TaskReport", by: db.ByWorkflow,
		id: func(w *db.Workflow) string { return w.ID }, pages: reportPages,
		args: (*executionContext).field_Workflow_taskReports_args, narrower: "runId"}
	runReports = &many[db.Run, db.TaskReport]{parent: "Run", field: "taskReports", child: "TaskReport", by: db.ByRun,
		id: func(r *db.Run) string { return r.ID }, pages: reportPages,
		args: (*executionContext).field_Run_taskReports_args}
	runResults = &many[db.Run, db.TaskProcessingResult]{parent: "Run", field: "taskProcessingResults", child: "TaskProcessingResult", by: db.ByRun,
		id: func(r *db.Run) string { return r.ID }, pages: resultPages,
		args: (*executionContext).field_Run_taskProcessingResults_args}
	reportResults = &many[db.TaskReport, db.TaskProcessingResult]{parent: "TaskReport", field: "taskProcessingResults", child: "TaskProcessingResult", by: db.ByTaskReport,
		id: func(r *db.TaskReport) string { return r.ID }, pages: resultPages,
		args: (*executionContext).field_TaskReport_taskProcessingResults_args}
)

// The user processing results: of a run, of a workflow, of a user (their history), and the
// task processing results of one (those of its run for its subject).
var (
	runUserResults = &many[db.Run, db.UserProcessingResult]{parent: "Run", field: "userProcessingResults", child: "UserProcessingResult", by: db.ByRun,
		id: func(r *db.Run) string { return r.ID }, pages: userResultPages,
		args: (*executionContext).field_Run_userProcessingResults_args}
	workflowUserResults = &many[db.Workflow, db.UserProcessingResult]{parent: "Workflow", field: "userProcessingResults", child: "UserProcessingResult", by: db.ByWorkflow,
		id: func(w *db.Workflow) string { return w.ID }, pages: userResultPages,
		args: (*executionContext).field_Workflow_userProcessingResults_args}
	userHistory = &many[db.User, db.UserProcessingResult]{parent: "User", field: "processingResults", child: "UserProcessingResult", by: db.BySubject,
		id: func(u *db.User) string { return u.ID }, pages: userResultPages,
		args: (*executionContext).field_User_processingResults_args}
	userResultTasks = &many[db.UserProcessingResult, db.TaskProcessingResult]{parent: "UserProcessingResult", field: "taskProcessingResults", child: "TaskProcessingResult",
		by: db.ByRunAndSubject, id: func(u *db.UserProcessingResult) string { return db.RunSubjectKey(u.RunID, u.SubjectID) }, pages: resultPages,
		args: (*executionContext).field_UserProcessingResult_taskProcessingResults_args}
)

func userResultPages(l *loaders.Loaders) *loaders.Pages[db.UserProcessingResult] {
	return l.UserResultPages
}

func reportPages(l *loaders.Loaders) *loaders.Pages[db.TaskReport] { return l.TaskReportPages }
func resultPages(l *loaders.Loaders) *loaders.Pages[db.TaskProcessingResult] {
	return l.ResultPages
}

// relations is the registry, by parent type and field.
var relations = index(
	workflowRuns, workflowReports, runReports, runResults, reportResults,
	runUserResults, workflowUserResults, userHistory, userResultTasks,
	one[db.UserProcessingResult](users, "UserProcessingResult", "subject", func(r *db.UserProcessingResult) string { return r.SubjectID }).on("subject_id"),
	one[db.UserProcessingResult](runs, "UserProcessingResult", "run", func(r *db.UserProcessingResult) string { return r.RunID }).on("run_id"),
	one[db.UserProcessingResult](workflows, "UserProcessingResult", "workflow", func(r *db.UserProcessingResult) string { return r.WorkflowID }).on("workflow_id"),
	one[db.UserProcessingResult](versions, "UserProcessingResult", "version", func(r *db.UserProcessingResult) string {
		return db.VersionID(r.WorkflowID, r.WorkflowVersion)
	}),
	one[db.Workflow](workflowsVersions, "Workflow", "versions", func(w *db.Workflow) string { return w.ID }),
	one[db.WorkflowVersion](workflows, "WorkflowVersion", "workflow", func(v *db.WorkflowVersion) string { return v.WorkflowID }),
	one[model.TopWorkflowsInsightsSummary](workflows, "TopWorkflowsInsightsSummary", "workflow",
		func(t *model.TopWorkflowsInsightsSummary) string { return t.WorkflowID }),
	one[model.TopTasksInsightsSummary](definitions, "TopTasksInsightsSummary", "taskDefinition",
		func(t *model.TopTasksInsightsSummary) string { return t.TaskDefinitionID }),
	one[db.Workflow](workflowsTasks, "Workflow", "tasks", func(w *db.Workflow) string { return w.ID }),
	one[db.Run](workflows, "Run", "workflow", func(r *db.Run) string { return r.WorkflowID }).on("workflow_id"),
	one[db.TaskReport](tasks, "TaskReport", "task", func(r *db.TaskReport) string { return r.TaskID }).on("task_id"),
	one[db.TaskReport](definitions, "TaskReport", "taskDefinition", func(r *db.TaskReport) string { return r.TaskDefinitionID }).on("task_definition_id"),
	one[db.TaskReport](runs, "TaskReport", "run", func(r *db.TaskReport) string { return r.RunID }).on("run_id"),
	one[db.TaskReport](workflows, "TaskReport", "workflow", func(r *db.TaskReport) string { return r.WorkflowID }).on("workflow_id"),
	one[db.TaskProcessingResult](users, "TaskProcessingResult", "subject", func(r *db.TaskProcessingResult) string { return r.SubjectID }).on("subject_id"),
	one[db.TaskProcessingResult](tasks, "TaskProcessingResult", "task", func(r *db.TaskProcessingResult) string { return r.TaskID }).on("task_id"),
	one[db.TaskProcessingResult](reports, "TaskProcessingResult", "taskReport", func(r *db.TaskProcessingResult) string { return r.TaskReportID }).on("task_report_id"),
	one[db.Task](definitions, "Task", "taskDefinition", func(t *db.Task) string { return t.TaskDefinitionID }),
	one[db.TaskReportStats](tasks, "TaskReportStats", "task", statsKey(db.GroupByTask)),
	one[db.TaskReportStats](definitions, "TaskReportStats", "taskDefinition", statsKey(db.GroupByTaskDefinition)),
	one[db.TaskReportStats](runs, "TaskReportStats", "run", statsKey(db.GroupByRun)),
)

// statsKey is the id a statistics group points to, when it is grouped by that kind ("" otherwise).
func statsKey(by db.GroupBy) func(*db.TaskReportStats) string {
	return func(s *db.TaskReportStats) string {
		if s.By != by {
			return ""
		}
		return s.Key
	}
}

func index(rels ...relation) map[string]map[string]relation {
	out := map[string]map[string]relation{}
	for _, r := range rels {
		parent, field := r.names()
		if out[parent] == nil {
			out[parent] = map[string]relation{}
		}
		out[parent][field] = r
	}
	return out
}

// entity is one object type loaded by id.
type entity[T any] struct {
	name   string
	loader func(*loaders.Loaders) *loaders.ByID[T]
}

// get reads the object the current root field asks for (nil when there is none), at once rather
// than after a loader's batching wait, and prefetches what the request selected on it.
func (e entity[T]) get(ctx context.Context, id string) (*T, error) {
	found, err := e.loader(loaders.For(ctx)).Fill(ctx, []string{id})
	if err != nil || len(found) == 0 {
		return nil, err
	}
	prefetchCurrent(ctx, e.name, found)
	return found[0], nil
}

func nodeOf[T any, P interface {
	*T
	model.Node
}](e entity[T]) func(ctx context.Context, id string) (model.Node, error) {
	return func(ctx context.Context, id string) (model.Node, error) {
		v, err := e.get(ctx, id)
		if v == nil || err != nil {
			return nil, err // a missing object is a nil interface, not one holding a nil pointer
		}
		return P(v), nil
	}
}

// toOne follows a key of the parent to one child (or, for a workflow's tasks, to one list).
type toOne[P, C any] struct {
	parent, field string
	target        entity[C]
	key           func(*P) string
	join          *db.Join // how a page read of parents brings the child along; nil: it cannot
}

func one[P, C any](target entity[C], parent, field string, key func(*P) string) *toOne[P, C] {
	return &toOne[P, C]{parent: parent, field: field, target: target, key: key}
}

// on lets a page read of the parents join the child on column, the parent's column that key
// reads (a stored id, so the join matches what a read by id finds).
func (r *toOne[P, C]) on(column string) *toOne[P, C] {
	j := db.JoinTo[C](column)
	r.join = &j
	return r
}

// joinable is a relationship a page read of its parents can bring along.
type joinable interface {
	joinOn() (db.Join, bool)
	// keepJoined fills the child's loader from what the join found, as prefetch would from its
	// own read, and prefetches what was selected on the children.
	keepJoined(ctx context.Context, l *loaders.Loaders, parents any, f graphql.CollectedField, found db.Joined)
}

func (r *toOne[P, C]) joinOn() (db.Join, bool) {
	if r.join == nil {
		return db.Join{}, false
	}
	return *r.join, true
}

func (r *toOne[P, C]) keepJoined(ctx context.Context, l *loaders.Loaders, parents any, f graphql.CollectedField, found db.Joined) {
	ps := parents.([]*P)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = r.key(p)
	}
	children := r.target.loader(l).Keep(ids, found)
	prefetch(ctx, l, r.target.name, flatten(children), f.Selections, nil)
}

func (r *toOne[P, C]) names() (string, string) { return r.parent, r.field }

func (r *toOne[P, C]) prefetch(ctx context.Context, l *loaders.Loaders, parents any, f graphql.CollectedField) {
	ps := parents.([]*P)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = r.key(p)
	}
	children, err := r.target.loader(l).Fill(ctx, ids)
	if err != nil {
		return // the fields load again and report the error where it belongs
	}
	prefetch(ctx, l, r.target.name, flatten(children), f.Selections, nil)
}

// flatten turns the lists of TasksOfWorkflow and VersionsOfWorkflow into one list; other
// children pass as they are.
func flatten[C any](children []*C) any {
	switch lists := any(children).(type) {
	case []*[]*db.Task:
		return concat(lists)
	case []*[]*db.WorkflowVersion:
		return concat(lists)
	}
	return children
}

func concat[T any](lists []*[]*T) []*T {
	var out []*T
	for _, l := range lists {
		out = append(out, *l...)
	}
	return out
}

// many is a nested connection: a page of children per parent, keyed by the parent's id in the
// child's `by` column.
type many[P, C any] struct {
	parent, field, child string
	by                   db.Parent
	id                   func(*P) string
	pages                func(*loaders.Loaders) *loaders.Pages[C]
	// args is gqlgen's generated parser of the field's arguments: the resolver gets its
	// parameters from it, and the prefetcher parses with it too.
	args func(*executionContext, context.Context, map[string]any) (map[string]any, error)
	// narrower is an argument that turns the field into a read of its own (not prefetched).
	narrower string
}

func (r *many[P, C]) names() (string, string) { return r.parent, r.field }

func (r *many[P, C]) prefetch(ctx context.Context, l *loaders.Loaders, parents any, f graphql.CollectedField) {
	op := graphql.GetOperationContext(ctx)
	typed, err := r.args(argParser, ctx, f.ArgumentMap(op.Variables))
	if err != nil {
		return // the field's resolver parses the same arguments and reports the error
	}
	if n, _ := typed[r.narrower].(*string); n != nil {
		return
	}
	ps := parents.([]*P)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = r.id(p)
	}
	sels := itemSelections(op, f.Selections, r.child)
	a := typedPageArgs(typed)
	a.Joins = joinsOf(op, r.child, sels)
	items, joined, err := r.pages(l).Fill(ctx, r.by, ids, a, selectsTotalCount(op, f, r.child))
	if err != nil {
		return
	}
	prefetch(ctx, l, r.child, items, sels, joined)
}

// connection is the field's page for one parent, from the request's loaders: filled by the
// prefetch, or batched with the same field of its sibling objects. args are the resolver's
// typed arguments.
func (r *many[P, C]) connection(ctx context.Context, parentID string, args db.PageArgs) (*model.Connection[C], error) {
	l := loaders.For(ctx)
	p := r.pages(l)
	key := l.Key(r.by, parentID, args)
	page, err := p.Pages.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	return model.NewConnection(page, func(ctx context.Context) (int, error) { return p.Counts.Load(ctx, key) }), nil
}

// argParser runs gqlgen's generated argument parsers outside a field's execution; they use
// nothing of an operation.
var argParser = newExecutionContext(nil, &executableSchema{}, nil)

// typedPageArgs are a connection's arguments as gqlgen parsed them, the way its resolver receives them.
func typedPageArgs(typed map[string]any) db.PageArgs {
	first, _ := typed["first"].(*int)
	last, _ := typed["last"].(*int)
	after, _ := typed["after"].(*string)
	before, _ := typed["before"].(*string)
	orderBy, _ := typed["orderBy"].([]*model.Order)
	return model.PageArgs(first, after, last, before, orderBy, typed["where"])
}
