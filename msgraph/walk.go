package msgraph

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// Graph paths, relative to the service root.
const (
	lifecycleRoot    = "identityGovernance/lifecycleWorkflows"
	taskDefinitions  = lifecycleRoot + "/taskDefinitions"
	workflows        = lifecycleRoot + "/workflows"
	deletedWorkflows = lifecycleRoot + "/deletedItems/workflows"
	users            = "users"
)

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
	// KeepSince, when set, is the start of the history the gateway keeps (--retain): runs
	// scheduled before it are neither stored nor read, so a pass does not bring back what
	// pruning removed.
	KeepSince time.Time
	// Logger receives warnings the walk goes on after (nil: none).
	Logger *slog.Logger
	// Memo, when set, lets the walk skip pages of results it holds (an import, see ImportDir);
	// only with a RawSource.
	Memo PageMemo
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
	// MarkWorkflowsMissing marks the stored workflows that a complete listing of workflows and
	// deleted workflows (seen) did not hold; MarkRunsMissing does the same for a workflow's runs
	// after a complete listing of them. Nothing is deleted.
	MarkWorkflowsMissing(ctx context.Context, seen []string, at time.Time) (int, error)
	MarkRunsMissing(ctx context.Context, workflowID string, seen []string, at time.Time) (int, error)
}

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
type workflowRef struct {
	pathID, id string
	// old are the runs listed but scheduled before WalkOptions.KeepSince: their reports are
	// skipped too.
	old map[string]bool
}

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

// write hands one page's batch to the sink and adds what it did to the walk's stats.
func (w *walker) write(ctx context.Context, b db.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	st, err := w.sink.Write(ctx, b)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.stats.Written = w.stats.Written.Add(st)
	w.mu.Unlock()
	return nil
}

func (w *walker) walk(ctx context.Context) error {
	err := w.each(ctx, Request{Path: taskDefinitions}, true, func(ctx context.Context, p *Page) error {
		defs, err := decode(p, func(_ int, r *wireTaskDefinition) (db.TaskDefinition, error) { return r.model() })
		if err != nil {
			return err
		}
		err = w.write(ctx, db.Batch{TaskDefinitions: w.unsentDefs(defs)})
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
		return w.write(ctx, db.Batch{Workflows: rows})
	})
	if err != nil {
		return err
	}
	refs = dedupe(refs, func(r workflowRef) string { return r.id })
	deleted, err := w.deletedWorkflows(ctx, wanted)
	if err != nil {
		return err
	}
	if w.opts.State != nil && len(wanted) == 0 {
		// Both listings are complete: a stored workflow in neither is gone from Graph.
		seen := deleted
		for _, r := range refs {
			seen = append(seen, r.id)
		}
		n, err := w.opts.State.MarkWorkflowsMissing(ctx, seen, time.Now())
		if err != nil {
			return err
		}
		if n > 0 {
			w.opts.Logger.Warn("workflows gone from Graph are marked missing; what is stored of them stays", "workflows", n)
		}
	}
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
