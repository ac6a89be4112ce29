package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
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
	// UnchangedRuns counts runs an incremental walk listed but did not fetch again: their reports
	// and results were stored already, as of the same version.
	UnchangedRuns int
}

func (s Stats) String() string {
	out := fmt.Sprintf("%d task definitions, %d workflows, %d tasks, %d runs, %d task reports, %d task processing results, %d users",
		s.TaskDefinitions, s.Workflows, s.Tasks, s.Runs, s.TaskReports, s.TaskProcessingResults, s.Users)
	if s.UnchangedRuns > 0 {
		out += fmt.Sprintf(" (%d runs unchanged)", s.UnchangedRuns)
	}
	return out
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

// userFields are the properties of a user the gateway keeps.
const userFields = "id,displayName,userPrincipalName,mail"

// usersPerRequest is how many ids Graph takes in one `id in (...)` filter.
const usersPerRequest = 15

// WalkOptions adapt a walk to a live sync. The zero value reads every collection once, in
// order, as an import of saved responses does.
type WalkOptions struct {
	// Workflows limits the walk to these workflow ids (compared case-insensitively); empty: all.
	Workflows []string
	// UsersByID fetches just the users that results name as subjects, a few ids a request, after
	// each run, instead of the whole users collection at the end.
	UsersByID bool
	// State makes the walk incremental and resumable: runs listed again at a version whose
	// reports and results are stored already are skipped, only runs updated since the
	// workflow's watermark (less Overlap) are listed, and unfinished runs are fetched until
	// they finish. Nil: every run is read.
	State SyncState
	// Full ignores what State remembers (it still records the walk): everything is read again.
	Full bool
	// Overlap is how far before the watermark an incremental walk looks for updated runs, for
	// updates that Graph shows late.
	Overlap time.Duration
	// Concurrency bounds the workflows, and the reports of a run, read at once; 0 or 1: one
	// at a time, in order.
	Concurrency int
	// KeepGoing: a workflow that fails stops alone; the walk goes on with the others and returns
	// their errors (as *WorkflowError) with the Stats of what it stored.
	KeepGoing bool
	// Logger receives warnings the walk goes on after (nil: none).
	Logger *slog.Logger
	// Progress, when set, is told of every page stored: its collection and how many records.
	// Several goroutines may call it at once.
	Progress func(collection string, records int)
}

// SyncState is where an incremental walk keeps, between walks, what is stored already;
// *db.Store is one.
type SyncState interface {
	// SyncState returns the workflow's last completed walk (nil: none) and its run checkpoints.
	SyncState(ctx context.Context, workflowID string) (*db.SyncWorkflow, map[string]db.SyncRun, error)
	// MarkRunSynced records that a run's reports, results and subjects are stored, as of the
	// version in run.
	MarkRunSynced(ctx context.Context, run db.SyncRun) error
	// CompleteWorkflowSync records a completed walk over a workflow and its new watermark.
	CompleteWorkflowSync(ctx context.Context, workflowID string, watermark *time.Time) error
}

// WorkflowError is a workflow a KeepGoing walk could not finish. What the walk stored of it
// before the error stays stored, and its checkpoints let the next walk resume.
type WorkflowError struct {
	ID  string
	Err error
}

func (e *WorkflowError) Error() string { return fmt.Sprintf("workflow %s: %v", e.ID, e.Err) }
func (e *WorkflowError) Unwrap() error { return e.Err }

// Walk reads every collection the gateway stores from src and hands it to sink in dependency
// order: task definitions, workflows, then per workflow its tasks, runs and task reports (with
// their expanded task and task definition), each report's task processing results (with their
// inline task and subject), and last the users. Only workflows must exist; a source may lack
// any other collection. The first bad record stops the walk with a *RecordError; Stats are
// returned only for a complete walk.
func Walk(ctx context.Context, src Source, sink Sink) (Stats, error) {
	return WalkWith(ctx, src, sink, WalkOptions{})
}

// WalkWith is Walk adapted by opts; it writes through the same conversions and sink calls.
func WalkWith(ctx context.Context, src Source, sink Sink, opts WalkOptions) (Stats, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &walker{
		src:     src,
		sink:    sink,
		opts:    opts,
		defs:    map[string]db.TaskDefinition{},
		tasks:   map[string]db.Task{},
		users:   map[string]bool{},
		fetched: map[string]bool{},
	}
	err := w.walk(ctx)
	if err != nil && !(opts.KeepGoing && w.partial) {
		return Stats{}, err
	}
	w.stats.TaskDefinitions = len(w.defs)
	w.stats.Tasks = len(w.tasks)
	w.stats.Users = len(w.users)
	return w.stats, err
}

type walker struct {
	src  Source
	sink Sink
	opts WalkOptions

	// mu guards what follows: the results of several reports may be read at once.
	mu sync.Mutex
	// What this walk has already sent, so the same task or definition, repeated inline in
	// every report and result, is written once unless it changes.
	defs    map[string]db.TaskDefinition
	tasks   map[string]db.Task
	users   map[string]bool
	fetched map[string]bool // users asked for by id
	denied  bool            // Graph refused to list users: names stay unknown
	stats   Stats
	// partial: the walk got past the collections every workflow needs, so a KeepGoing walk's
	// errors are per workflow and its Stats mean something.
	partial bool
}

// workflowRef keeps the id as Graph wrote it (for paths) and its stored form.
type workflowRef struct{ pathID, id string }

// runRef is a run as listed, with its version.
type runRef struct {
	pathID string
	run    db.Run
}

func (w *walker) count(collection string, n int, add func(*Stats)) {
	w.mu.Lock()
	add(&w.stats)
	w.mu.Unlock()
	if w.opts.Progress != nil && n > 0 {
		w.opts.Progress(collection, n)
	}
}

func (w *walker) walk(ctx context.Context) error {
	err := w.each(ctx, Request{Path: taskDefinitions}, true, func(ctx context.Context, p *Page) error {
		defs, err := decode(p, func(_ int, r *wireTaskDefinition) (db.TaskDefinition, error) { return r.model() })
		if err != nil {
			return err
		}
		err = w.sink.Atomic(ctx, func(ctx context.Context) error { return w.upsertDefs(ctx, defs) })
		w.count("taskDefinitions", len(defs), func(*Stats) {})
		return err
	})
	if err != nil {
		return err
	}

	wanted := map[string]bool{}
	for _, id := range w.opts.Workflows {
		wanted[tenant.NormalizeID(id)] = true
	}
	var refs []workflowRef
	err = w.each(ctx, Request{Path: workflows}, false, func(ctx context.Context, p *Page) error {
		all, err := decode(p, func(_ int, r *wireWorkflow) (db.Workflow, error) { return r.model() })
		if err != nil {
			return err
		}
		var rows []db.Workflow
		for i, row := range all {
			if len(wanted) == 0 || wanted[row.ID] {
				rows = append(rows, row)
				refs = append(refs, workflowRef{pathID: pathID(p.Value[i]), id: row.ID})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		w.count("workflows", len(rows), func(s *Stats) { s.Workflows += len(rows) })
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertWorkflows(ctx, rows) })
	})
	if err != nil {
		return err
	}
	refs = dedupe(refs, func(r workflowRef) string { return r.id })
	w.partial = true

	var errs []error
	for _, id := range slices.Sorted(maps.Keys(wanted)) {
		if !slices.ContainsFunc(refs, func(r workflowRef) bool { return r.id == id }) {
			errs = append(errs, &WorkflowError{ID: id, Err: errors.New("not among the tenant's workflows")})
		}
	}
	errs = append(errs, parallel(ctx, w.opts.Concurrency, w.opts.KeepGoing, refs, func(ctx context.Context, wf workflowRef) error {
		err := w.workflow(ctx, wf)
		if err != nil && w.opts.KeepGoing {
			return &WorkflowError{ID: wf.id, Err: err}
		}
		return err
	})...)
	if len(errs) > 0 && !w.opts.KeepGoing {
		return errs[0]
	}
	if ctx.Err() != nil {
		return errors.Join(append(errs, ctx.Err())...)
	}

	if !w.opts.UsersByID {
		req := Request{Path: users, Query: url.Values{"$select": {userFields}}}
		err = w.each(ctx, req, true, func(ctx context.Context, p *Page) error { return w.upsertUserPage(ctx, p) })
		if err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func (w *walker) workflow(ctx context.Context, wf workflowRef) error {
	base := collectionPath(workflows, wf.pathID)

	err := w.each(ctx, Request{Path: collectionPath(base, "tasks")}, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireTask) (db.Task, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		err = w.sink.Atomic(ctx, func(ctx context.Context) error { return w.upsertTasks(ctx, rows) })
		w.count("tasks", len(rows), func(*Stats) {})
		return err
	})
	if err != nil {
		return err
	}

	// What earlier walks stored of this workflow.
	var done *db.SyncWorkflow
	marks := map[string]db.SyncRun{}
	if w.opts.State != nil && !w.opts.Full {
		if done, marks, err = w.opts.State.SyncState(ctx, wf.id); err != nil {
			return err
		}
	}
	incremental := done != nil && done.Watermark != nil
	var watermark *time.Time
	runsReq := Request{Path: collectionPath(base, "runs")}
	if incremental {
		watermark = done.Watermark
		since := done.Watermark.Add(-w.opts.Overlap).UTC().Format(time.RFC3339Nano)
		runsReq.Query = url.Values{"$filter": {"lastUpdatedDateTime ge " + since}}
	}

	var runs []runRef
	storeRuns := func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireRun) (db.Run, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		for i, r := range rows {
			runs = append(runs, runRef{pathID: pathID(p.Value[i]), run: r})
		}
		w.count("runs", len(rows), func(s *Stats) { s.Runs += len(rows) })
		return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertRuns(ctx, rows) })
	}
	if err := w.each(ctx, runsReq, true, storeRuns); err != nil {
		return err
	}
	if incremental {
		// An unfinished run is read until it finishes, even when no update lists it.
		listed := map[string]bool{}
		for _, r := range runs {
			listed[r.run.ID] = true
		}
		for _, id := range slices.Sorted(maps.Keys(marks)) {
			if m := marks[id]; listed[id] || m.Finished() {
				continue
			}
			err := w.each(ctx, Request{Path: collectionPath(base, "runs", id), Entity: true}, false, storeRuns)
			if errors.Is(err, ErrNotFound) {
				w.opts.Logger.Warn("an unfinished run is gone from Graph; what is stored of it stays", "workflow", wf.id, "run", id)
				continue
			}
			if err != nil {
				return err
			}
		}
	}
	runs = dedupe(runs, func(r runRef) string { return r.run.ID })

	// The runs to read, in the order listed; the others are stored as of their listed version.
	todo := map[string]runRef{}
	for _, r := range runs {
		if t := r.run.LastUpdatedDateTime; t != nil && (watermark == nil || t.After(*watermark)) {
			watermark = t
		}
		if m, ok := marks[r.run.ID]; ok && upToDate(m, r.run) {
			continue
		}
		todo[r.run.ID] = r
	}
	w.count("runs", 0, func(s *Stats) { s.UnchangedRuns += len(runs) - len(todo) })

	if !incremental {
		reports, err := w.reports(ctx, base, wf, url.Values{"$expand": {"task,taskDefinition"}})
		if err != nil {
			return err
		}
		for _, g := range groupByRun(reports, runs, todo) {
			if err := w.run(ctx, base, wf, g); err != nil {
				return err
			}
		}
	} else {
		// Graph has no run-scoped list of task reports: filter the workflow's by runId, or, where
		// Graph refuses that filter, read the whole list once and pick from it.
		var all []reportRef
		loaded := false
		for _, r := range runs {
			if _, ok := todo[r.run.ID]; !ok {
				continue
			}
			q := url.Values{"$expand": {"task,taskDefinition"}, "$filter": {"runId eq " + odataString(r.pathID)}}
			reports, err := w.reports(ctx, base, wf, q)
			if errors.Is(err, ErrBadRequest) {
				if !loaded {
					w.opts.Logger.Warn("Graph refused to filter task reports by runId; reading the workflow's whole list", "workflow", wf.id, "error", err.Error())
					if all, err = w.reports(ctx, base, wf, url.Values{"$expand": {"task,taskDefinition"}}); err != nil {
						return err
					}
					loaded = true
				}
				reports, err = nil, nil
				for _, rep := range all {
					if rep.runID == r.run.ID {
						reports = append(reports, rep)
					}
				}
			}
			if err != nil {
				return err
			}
			if err := w.run(ctx, base, wf, reportGroup{run: r.run, known: true, reports: reports}); err != nil {
				return err
			}
		}
	}
	if w.opts.State != nil {
		return w.opts.State.CompleteWorkflowSync(ctx, wf.id, watermark)
	}
	return nil
}

// upToDate tells whether a run's reports and results, stored as of mark, need no second read.
func upToDate(mark db.SyncRun, run db.Run) bool {
	if !mark.Finished() || mark.ProcessingStatus != run.ProcessingStatus {
		return false
	}
	a, b := mark.LastUpdatedDateTime, run.LastUpdatedDateTime
	return a != nil && b != nil && a.Equal(*b)
}

// odataString quotes s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// reportGroup is a run and its reports: the unit a checkpoint covers.
type reportGroup struct {
	run     db.Run
	known   bool // the run was listed: its checkpoint can be recorded
	reports []reportRef
}

// groupByRun groups a workflow's reports by run, in the order the reports came, keeping the runs
// to read (todo) and the reports of runs not listed at all; a listed run without reports gets
// an empty group, so that its checkpoint is recorded.
func groupByRun(reports []reportRef, runs []runRef, todo map[string]runRef) []reportGroup {
	listed := map[string]bool{}
	for _, r := range runs {
		listed[r.run.ID] = true
	}
	at := map[string]int{}
	var groups []reportGroup
	for _, rep := range reports {
		if listed[rep.runID] {
			if _, ok := todo[rep.runID]; !ok {
				continue
			}
		}
		i, ok := at[rep.runID]
		if !ok {
			i = len(groups)
			at[rep.runID] = i
			g := reportGroup{run: db.Run{ID: rep.runID}}
			if r, ok := todo[rep.runID]; ok {
				g.run, g.known = r.run, true
			}
			groups = append(groups, g)
		}
		groups[i].reports = append(groups[i].reports, rep)
	}
	for _, r := range runs {
		if _, ok := todo[r.run.ID]; ok {
			if _, seen := at[r.run.ID]; !seen {
				at[r.run.ID] = len(groups)
				groups = append(groups, reportGroup{run: r.run, known: true})
			}
		}
	}
	return groups
}

// reports reads a workflow's task reports (as query selects them), stores them with their
// expanded task and definition, and returns them.
func (w *walker) reports(ctx context.Context, base string, wf workflowRef, query url.Values) ([]reportRef, error) {
	var out []reportRef
	req := Request{Path: collectionPath(base, "taskReports"), Query: query}
	err := w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
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
			out = append(out, reportRef{pathID: pathID(p.Value[i]), id: r.ID, workflowID: wf.id, runID: r.RunID, taskID: r.TaskID})
		}
		w.count("taskReports", len(rows), func(s *Stats) { s.TaskReports += len(rows) })
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
	return dedupe(out, func(r reportRef) string { return r.id }), err
}

// run reads the results of a run's reports and, by id, the subjects they name, then records the
// run's checkpoint.
func (w *walker) run(ctx context.Context, base string, wf workflowRef, g reportGroup) error {
	subjects := map[string]bool{}
	var mu sync.Mutex
	errs := parallel(ctx, w.opts.Concurrency, false, g.reports, func(ctx context.Context, r reportRef) error {
		seen, err := w.results(ctx, base, r)
		mu.Lock()
		for _, id := range seen {
			subjects[id] = true
		}
		mu.Unlock()
		return err
	})
	if len(errs) > 0 {
		return errs[0]
	}
	if w.opts.UsersByID {
		if err := w.usersByID(ctx, slices.Sorted(maps.Keys(subjects))); err != nil {
			return err
		}
	}
	if w.opts.State != nil && g.known {
		return w.opts.State.MarkRunSynced(ctx, db.SyncRun{ID: g.run.ID, WorkflowID: wf.id,
			LastUpdatedDateTime: g.run.LastUpdatedDateTime, ProcessingStatus: g.run.ProcessingStatus})
	}
	return nil
}

// results reads a report's results and returns the subjects they name.
func (w *walker) results(ctx context.Context, base string, report reportRef) ([]string, error) {
	var seen []string
	req := Request{Path: collectionPath(base, "taskReports", report.pathID, "taskProcessingResults")}
	err := w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
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
			return result, nil
		})
		if err != nil {
			return err
		}
		w.mu.Lock()
		for _, r := range rows {
			seen = append(seen, r.SubjectID)
			if !w.users[r.SubjectID] {
				w.users[r.SubjectID] = true
				subjects = append(subjects, db.User{ID: r.SubjectID})
			}
		}
		w.mu.Unlock()
		w.count("taskProcessingResults", len(rows), func(s *Stats) { s.TaskProcessingResults += len(rows) })
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
	return seen, err
}

// usersByID fetches the users with these ids that this walk has not asked for yet, a batch of ids
// a request. A user Graph does not return (deleted since) keeps just its id. Without permission
// to read users the walk goes on: the names stay unknown.
func (w *walker) usersByID(ctx context.Context, ids []string) error {
	w.mu.Lock()
	var todo []string
	for _, id := range ids {
		if !w.fetched[id] && !w.denied {
			w.fetched[id] = true
			todo = append(todo, id)
		}
	}
	w.mu.Unlock()
	for batch := range slices.Chunk(todo, usersPerRequest) {
		quoted := make([]string, len(batch))
		for i, id := range batch {
			quoted[i] = odataString(id)
		}
		req := Request{Path: users, Query: url.Values{
			"$filter": {"id in (" + strings.Join(quoted, ",") + ")"},
			"$select": {userFields},
		}}
		err := w.each(ctx, req, true, func(ctx context.Context, p *Page) error { return w.upsertUserPage(ctx, p) })
		var re *RequestError
		if errors.As(err, &re) && re.Status == http.StatusForbidden {
			w.mu.Lock()
			first := !w.denied
			w.denied = true
			w.mu.Unlock()
			if first {
				w.opts.Logger.Warn("Graph refused to list users: subjects are stored by id, without names (grant User.Read.All)", "error", err.Error())
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) upsertUserPage(ctx context.Context, p *Page) error {
	rows, err := decode(p, func(_ int, r *wireUser) (db.User, error) { return r.model() })
	if err != nil {
		return err
	}
	w.mu.Lock()
	for _, u := range rows {
		w.users[u.ID] = true
	}
	w.mu.Unlock()
	w.count("users", len(rows), func(*Stats) {})
	return w.sink.Atomic(ctx, func(ctx context.Context) error { return w.sink.UpsertUsers(ctx, rows) })
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

// parallel calls fn for each item, at most limit at once and starting them in order; with a
// limit of 1, one after the other. Unless keepGoing, the first error cancels the rest and is the
// only one returned; with keepGoing every error is returned.
func parallel[T any](ctx context.Context, limit int, keepGoing bool, items []T, fn func(context.Context, T) error) []error {
	if !keepGoing {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(limit)
		for _, item := range items {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error { return fn(gctx, item) })
		}
		if err := g.Wait(); err != nil {
			return []error{err}
		}
		return nil
	}
	var g errgroup.Group
	g.SetLimit(limit)
	errs := make([]error, len(items))
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { errs[i] = fn(ctx, item); return nil })
	}
	_ = g.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func (w *walker) upsertDefs(ctx context.Context, rows []db.TaskDefinition) error {
	w.mu.Lock()
	rows = unsent(w.defs, rows, func(d db.TaskDefinition) string { return d.ID })
	w.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	return w.sink.UpsertTaskDefinitions(ctx, rows)
}

func (w *walker) upsertTasks(ctx context.Context, rows []db.Task) error {
	w.mu.Lock()
	rows = unsent(w.tasks, rows, func(t db.Task) string { return t.ID })
	w.mu.Unlock()
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
