package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"lcw-gateway/db"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

func (w *walker) workflow(ctx context.Context, wf workflowRef) error {
	base := collectionPath(workflows, wf.pathID)

	err := w.each(ctx, Request{Path: collectionPath(base, "tasks")}, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireTask) (db.Task, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		err = w.write(ctx, db.Batch{Tasks: w.unsentTasks(rows)})
		w.count("tasks", len(rows), func(*Stats) {})
		return err
	})
	if err != nil {
		return err
	}

	err = w.each(ctx, Request{Path: collectionPath(base, "versions")}, true, func(ctx context.Context, p *Page) error {
		rows, err := decode(p, func(_ int, r *wireWorkflowVersion) (db.WorkflowVersion, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		w.count("versions", len(rows), func(s *Stats) { s.WorkflowVersions += len(rows) })
		return w.write(ctx, db.Batch{WorkflowVersions: rows})
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
	wf.old = map[string]bool{}
	storeRuns := func(ctx context.Context, p *Page) error {
		all, err := decode(p, func(_ int, r *wireRun) (db.Run, error) { return r.model(wf.id) })
		if err != nil {
			return err
		}
		rows := all[:0:0]
		for i, r := range all {
			if r.ScheduledDateTime.Before(w.opts.KeepSince) {
				wf.old[r.ID] = true // listed, but older than the history kept
				continue
			}
			rows = append(rows, r)
			runs = append(runs, runRef{pathID: pathID(p.Value[i]), run: r})
		}
		w.count("runs", len(rows), func(s *Stats) { s.Runs += len(rows) })
		return w.write(ctx, db.Batch{Runs: rows})
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
	if !incremental && w.opts.State != nil && len(w.opts.Workflows) == 0 {
		// The listing was complete: a stored run it did not hold has aged out of Graph.
		seen := slices.Collect(maps.Keys(wf.old))
		for _, r := range runs {
			seen = append(seen, r.run.ID)
		}
		n, err := w.opts.State.MarkRunsMissing(ctx, wf.id, seen, time.Now())
		if err != nil {
			return err
		}
		if n > 0 {
			w.opts.Logger.Info("runs gone from Graph are marked missing; what is stored of them stays", "workflow", wf.id, "runs", n)
		}
	}

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
			if err := w.run(ctx, base, wf, reportGroup{run: r.run, pathID: r.pathID, known: true, reports: reports}); err != nil {
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
	pathID  string // the run's id as Graph wrote it, for the URL path
	known   bool   // the run was listed: its checkpoint can be recorded
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
				g.run, g.pathID, g.known = r.run, r.pathID, true
			}
			groups = append(groups, g)
		}
		groups[i].reports = append(groups[i].reports, rep)
	}
	for _, r := range runs {
		if _, ok := todo[r.run.ID]; ok {
			if _, seen := at[r.run.ID]; !seen {
				at[r.run.ID] = len(groups)
				groups = append(groups, reportGroup{run: r.run, pathID: r.pathID, known: true})
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
		kept := rows[:0]
		for i, r := range rows {
			if wf.old[r.RunID] {
				continue // a run older than the history kept
			}
			kept = append(kept, r)
			out = append(out, reportRef{pathID: pathID(p.Value[i]), id: r.ID, workflowID: wf.id, runID: r.RunID, taskID: r.TaskID})
		}
		rows = kept
		w.count("taskReports", len(rows), func(s *Stats) { s.TaskReports += len(rows) })
		return w.write(ctx, db.Batch{TaskDefinitions: w.unsentDefs(defs), Tasks: w.unsentTasks(tasks), TaskReports: rows})
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
	if g.known {
		seen, err := w.userResults(ctx, base, wf, g)
		if err != nil {
			return err
		}
		for _, id := range seen {
			subjects[id] = true
		}
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

// results reads a report's results and returns the subjects they name. A page the import
// memo holds (see PageMemo) is not decoded: what it gave last time is handed on instead.
func (w *walker) results(ctx context.Context, base string, report reportRef) ([]string, error) {
	var seen []string
	req := Request{Path: collectionPath(base, "taskReports", report.pathID, "taskProcessingResults")}
	key := []string{report.id, report.workflowID, report.runID, report.taskID}
	hit := func(p db.ImportPage) error {
		tasks, err := recalledTasks(p.Tasks, report.workflowID)
		if err != nil {
			return err
		}
		seen = append(seen, p.Subjects...)
		subjects := w.newSubjects(p.Subjects)
		w.count("taskProcessingResults", p.Records, func(s *Stats) { s.TaskProcessingResults += p.Records })
		w.opts.Memo.Skipped(db.WriteStats{TaskProcessingResults: db.Counts{Unchanged: p.Rows}})
		return w.write(ctx, db.Batch{Tasks: w.unsentTasks(tasks), Subjects: subjects})
	}
	err := w.eachRemembered(ctx, req, db.MemoResults, report.id, key, hit, func(ctx context.Context, p *Page) (db.ImportPage, error) {
		var inline []inlineTask
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
				inline = append(inline, inlineTask{t, r.Task})
			}
			return result, nil
		})
		if err != nil {
			return db.ImportPage{}, err
		}
		tasks := make([]db.Task, len(inline))
		for i, t := range inline {
			tasks[i] = t.model
		}
		for _, r := range rows {
			seen = append(seen, r.SubjectID)
		}
		named := seen[len(seen)-len(rows):]
		subjects = w.newSubjects(named)
		w.count("taskProcessingResults", len(rows), func(s *Stats) { s.TaskProcessingResults += len(rows) })
		if err := w.write(ctx, db.Batch{Tasks: w.unsentTasks(tasks), Subjects: subjects, TaskProcessingResults: rows}); err != nil {
			return db.ImportPage{}, err
		}
		if w.opts.Memo == nil {
			return db.ImportPage{}, nil
		}
		remembered, err := rememberTasks(inline)
		distinct := len(dedupe(rows, func(r db.TaskProcessingResult) string { return r.ID }))
		return db.ImportPage{Records: len(rows), Rows: distinct, Subjects: distinctIDs(named), Tasks: remembered}, err
	})
	return seen, err
}

// userResults reads a run's user processing results (one per user) and returns the subjects
// they name. A folder saved before the gateway read them has none: the collection is optional.
// A page the import memo holds is not decoded, as in results.
func (w *walker) userResults(ctx context.Context, base string, wf workflowRef, g reportGroup) ([]string, error) {
	var seen []string
	req := Request{Path: collectionPath(base, "runs", g.pathID, "userProcessingResults")}
	hit := func(p db.ImportPage) error {
		seen = append(seen, p.Subjects...)
		subjects := w.newSubjects(p.Subjects)
		w.count("userProcessingResults", p.Records, func(s *Stats) { s.UserProcessingResults += p.Records })
		w.opts.Memo.Skipped(db.WriteStats{UserProcessingResults: db.Counts{Unchanged: p.Rows}})
		return w.write(ctx, db.Batch{Subjects: subjects})
	}
	err := w.eachRemembered(ctx, req, db.MemoUserResults, g.run.ID, []string{wf.id, g.run.ID}, hit, func(ctx context.Context, p *Page) (db.ImportPage, error) {
		rows, err := decode(p, func(_ int, r *wireUserProcessingResult) (db.UserProcessingResult, error) {
			return r.model(wf.id, g.run.ID)
		})
		if err != nil {
			return db.ImportPage{}, err
		}
		for _, r := range rows {
			seen = append(seen, r.SubjectID)
		}
		named := seen[len(seen)-len(rows):]
		subjects := w.newSubjects(named)
		w.count("userProcessingResults", len(rows), func(s *Stats) { s.UserProcessingResults += len(rows) })
		if err := w.write(ctx, db.Batch{Subjects: subjects, UserProcessingResults: rows}); err != nil {
			return db.ImportPage{}, err
		}
		distinct := len(dedupe(rows, func(r db.UserProcessingResult) string { return r.ID }))
		return db.ImportPage{Records: len(rows), Rows: distinct, Subjects: distinctIDs(named), Tasks: json.RawMessage("[]")}, nil
	})
	return seen, err
}

// deletedWorkflows stores the deleted workflows Graph still keeps (30 days), with their
// deletedDateTime, and returns their ids; what was stored of their runs stays. wanted, when not
// empty, narrows them.
func (w *walker) deletedWorkflows(ctx context.Context, wanted map[string]bool) ([]string, error) {
	var ids []string
	err := w.each(ctx, Request{Path: deletedWorkflows}, true, func(ctx context.Context, p *Page) error {
		all, err := decode(p, func(_ int, r *wireWorkflow) (db.Workflow, error) { return r.model() })
		if err != nil {
			return err
		}
		var rows []db.Workflow
		for _, row := range all {
			if len(wanted) == 0 || wanted[row.ID] {
				rows = append(rows, row)
				ids = append(ids, row.ID)
			}
		}
		w.count("deletedWorkflows", len(rows), func(s *Stats) { s.DeletedWorkflows += len(rows) })
		return w.write(ctx, db.Batch{Workflows: rows})
	})
	return ids, err
}

// newSubjects are the users among ids that this walk has not sent yet, as users known by id only.
func (w *walker) newSubjects(ids []string) []db.User {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []db.User
	for _, id := range ids {
		if !w.users[id] {
			w.users[id] = true
			out = append(out, db.User{ID: id})
		}
	}
	return out
}
