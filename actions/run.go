package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/errcode"
	"lcw-gateway/msgraph"
	"lcw-gateway/tenant"
)

// Request is what a mutation knows of the HTTP request it came in: the gateway's request id and
// the Idempotency-Key header.
type Request struct {
	ID             string
	IdempotencyKey string
}

type requestKey struct{}

// WithRequest tags a request's context for the mutations it runs.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Graph's scopes of activateWithScope.
const (
	FailedUsers = "failedUsers"
	AllUsers    = "allUsers"
	FailedTasks = "failedTasks"
	AllTasks    = "allTasks"
)

const workflowsPath = "identityGovernance/lifecycleWorkflows/workflows/"

// plan is what an action asks of Graph, and of whom.
type plan struct {
	workflowID, targetID string
	// resync are the workflows to sync again after the action (workflowID when nil).
	resync   []string
	calls    []msgraph.PostRequest
	subjects db.ActionSubjects
}

func (p *plan) post(path string, beta bool, body any) {
	b, _ := json.Marshal(body)
	p.calls = append(p.calls, msgraph.PostRequest{Path: workflowsPath + path, Beta: beta, Body: b})
}

type ref struct {
	ID string `json:"id"`
}

func refs(ids []string) []ref {
	out := make([]ref, len(ids))
	for i, id := range ids {
		out[i] = ref{ID: id}
	}
	return out
}

// ReprocessRun runs a run's users (failed or all) and tasks (failed or all) again:
// activateWithScope with an activateRunScope.
func (s *Service) ReprocessRun(ctx context.Context, runID, users, tasks string, dryRun bool, key *string) (*db.Action, error) {
	args := db.ActionArgs{"runId": runID, "users": users, "tasks": tasks}
	return s.do(ctx, "reprocessRun", args, dryRun, key, func(ctx context.Context) (*plan, error) {
		run, err := s.run(ctx, runID)
		if err != nil {
			return nil, err
		}
		p := &plan{workflowID: run.WorkflowID, targetID: run.ID}
		p.post(run.WorkflowID+"/activateWithScope", false, map[string]any{"scope": map[string]any{
			"@odata.type": "#microsoft.graph.identityGovernance.activateRunScope",
			"run":         ref{ID: run.ID},
			"userScope":   users,
			"taskScope":   tasks,
		}})
		results, err := s.store.ResultsOfRun(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		p.subjects = subjectsOf(results, users == FailedUsers, tasks == FailedTasks)
		return p, nil
	})
}

// ReprocessResults runs chosen processing results again (failed tasks or all): one
// activateWithScope with an activateProcessingResultScope per workflow they belong to. Graph's
// scope takes user processing results: a task processing result (taskResultIDs, what a dashboard
// lists) stands for its user's result in its run; userResultIDs are taken as they are.
func (s *Service) ReprocessResults(ctx context.Context, taskResultIDs, userResultIDs []string, tasks string, dryRun bool, key *string) (*db.Action, error) {
	args := db.ActionArgs{"ids": taskResultIDs, "tasks": tasks}
	if len(userResultIDs) > 0 {
		args["userProcessingResultIds"] = userResultIDs
	}
	return s.do(ctx, "reprocessTaskProcessingResults", args, dryRun, key, func(ctx context.Context) (*plan, error) {
		chosen, target, err := s.userResultsFor(ctx, taskResultIDs, userResultIDs)
		if err != nil {
			return nil, err
		}
		byWorkflow := map[string][]string{}
		keys := make([]db.RunSubject, len(chosen))
		for i, u := range chosen {
			byWorkflow[u.WorkflowID] = append(byWorkflow[u.WorkflowID], u.ID)
			keys[i] = db.RunSubject{RunID: u.RunID, SubjectID: u.SubjectID}
		}
		p := &plan{workflowID: chosen[0].WorkflowID, targetID: target, resync: slices.Sorted(maps.Keys(byWorkflow))}
		for _, wf := range p.resync {
			// Graph's documented request spells this @odata.type without the leading '#'.
			p.post(wf+"/activateWithScope", false, map[string]any{"scope": map[string]any{
				"@odata.type":       "microsoft.graph.identityGovernance.activateProcessingResultScope",
				"processingResults": refs(byWorkflow[wf]),
				"taskScope":         tasks,
			}})
		}
		// What Graph runs again: each chosen user's tasks (failed or all) in that run.
		results, err := s.store.TaskResultsOfRunSubjects(ctx, keys)
		if err != nil {
			return nil, err
		}
		p.subjects = subjectsOf(results, false, tasks == FailedTasks)
		return p, nil
	})
}

// userResultsFor resolves the ids of a reprocessTaskProcessingResults to the user processing
// results Graph's scope takes, without repeats, in the order given, and names the first id as
// the action's target. A task processing result whose user result is not stored is refused by
// id, never dropped.
func (s *Service) userResultsFor(ctx context.Context, taskResultIDs, userResultIDs []string) ([]*db.UserProcessingResult, string, error) {
	taskIDs, err := distinctIDs("ids", taskResultIDs, isGUID, "a GUID")
	if err != nil {
		return nil, "", err
	}
	userIDs, err := distinctIDs("userProcessingResultIds", userResultIDs, isGraphKey, "letters, digits, '-' and '_'")
	if err != nil {
		return nil, "", err
	}
	if err := s.checkCount("ids and userProcessingResultIds", len(taskIDs)+len(userIDs)); err != nil {
		return nil, "", err
	}
	var out []*db.UserProcessingResult
	seen := map[string]bool{}
	add := func(u *db.UserProcessingResult) {
		if !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	if len(taskIDs) > 0 {
		found, err := s.store.TaskProcessingResultsByID(ctx, taskIDs)
		if err != nil {
			return nil, "", err
		}
		var missing []string
		keys := make([]db.RunSubject, 0, len(taskIDs))
		for _, id := range taskIDs {
			if r, ok := found[id]; ok {
				keys = append(keys, db.RunSubject{RunID: r.RunID, SubjectID: r.SubjectID})
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, "", refuse(errcode.NotFound, "no task processing result %s in this tenant's store", strings.Join(missing, ", "))
		}
		users, err := s.store.UserResultsOfRunSubjects(ctx, keys)
		if err != nil {
			return nil, "", err
		}
		for i, id := range taskIDs {
			if u, ok := users[keys[i].Key()]; ok {
				add(u)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, "", refuse(errcode.NotFound, "task processing result %s: the user processing result of its user in its run is "+
				"not in this tenant's store yet, and Graph reprocesses user processing results: sync the run, then retry", strings.Join(missing, ", "))
		}
	}
	if len(userIDs) > 0 {
		found, err := s.store.UserProcessingResultsByID(ctx, userIDs)
		if err != nil {
			return nil, "", err
		}
		var missing []string
		for _, id := range userIDs {
			if u, ok := found[id]; ok {
				add(u)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, "", refuse(errcode.NotFound, "no user processing result %s in this tenant's store", strings.Join(missing, ", "))
		}
	}
	return out, slices.Concat(taskIDs, userIDs)[0], nil
}

// ActivateWorkflow runs a workflow on demand for chosen users: activate, in calls of at most
// Graph's ten subjects each.
func (s *Service) ActivateWorkflow(ctx context.Context, workflowID string, subjectIDs []string, dryRun bool, key *string) (*db.Action, error) {
	args := db.ActionArgs{"workflowId": workflowID, "subjectIds": subjectIDs}
	return s.do(ctx, "activateWorkflow", args, dryRun, key, func(ctx context.Context) (*plan, error) {
		ids, err := s.idList("subjectIds", subjectIDs)
		if err != nil {
			return nil, err
		}
		found, err := s.store.WorkflowsByID(ctx, []string{workflowID})
		if err != nil {
			return nil, err
		}
		wf, ok := found[tenant.NormalizeID(workflowID)]
		if !ok {
			return nil, refuse(errcode.NotFound, "no workflow %s in this tenant's store", workflowID)
		}
		p := &plan{workflowID: wf.ID, targetID: wf.ID}
		for chunk := range slices.Chunk(ids, activateLimit) {
			p.post(wf.ID+"/activate", false, map[string]any{"subjects": refs(chunk)})
		}
		for _, id := range ids {
			p.subjects = append(p.subjects, &db.ActionSubject{SubjectID: id})
		}
		return p, nil
	})
}

// CancelRun cancels a queued or running run: cancelProcessing with a cancelRunsScope (Graph has
// it in beta only, one run per call).
func (s *Service) CancelRun(ctx context.Context, runID string, key *string) (*db.Action, error) {
	return s.do(ctx, "cancelRun", db.ActionArgs{"runId": runID}, false, key, func(ctx context.Context) (*plan, error) {
		run, err := s.run(ctx, runID)
		if err != nil {
			return nil, err
		}
		p := &plan{workflowID: run.WorkflowID, targetID: run.ID}
		p.post(run.WorkflowID+"/cancelProcessing", true, map[string]any{"scope": map[string]any{
			"@odata.type": "#microsoft.graph.identityGovernance.cancelRunsScope",
			"runs":        []ref{{ID: run.ID}},
		}})
		return p, nil
	})
}

// run looks a run up in the caller's tenant: an id of another tenant is as unknown as a wrong one.
func (s *Service) run(ctx context.Context, id string) (*db.Run, error) {
	found, err := s.store.RunsByID(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	run, ok := found[tenant.NormalizeID(id)]
	if !ok {
		return nil, refuse(errcode.NotFound, "no run %s in this tenant's store", id)
	}
	return run, nil
}

// idList checks a list of GUIDs: not empty, within the limit; repeats dropped.
func (s *Service) idList(arg string, ids []string) ([]string, error) {
	out, err := distinctIDs(arg, ids, isGUID, "a GUID")
	if err != nil {
		return nil, err
	}
	return out, s.checkCount(arg, len(out))
}

// distinctIDs normalizes a list of ids, drops repeats and refuses one that is not valid.
func distinctIDs(arg string, ids []string, valid func(string) bool, form string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if !valid(id) {
			return nil, &Error{Code: errcode.BadUserInput, Message: arg + ": " + quoteShort(id) + " is not a Graph id (" + form + ")"}
		}
		if id = tenant.NormalizeID(id); !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// checkCount refuses no id at all, and more than --action-max-subjects.
func (s *Service) checkCount(arg string, n int) error {
	switch {
	case n == 0:
		return refuse(errcode.BadUserInput, "%s: give at least one id", arg)
	case n > s.cfg.MaxSubjects:
		return refuse(errcode.LimitExceeded, "%s: %d ids, at most %d in one mutation (--action-max-subjects)", arg, n, s.cfg.MaxSubjects)
	}
	return nil
}

func isGUID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil
}

// isGraphKey accepts a user processing result's id as Graph makes them: a GUID in our fixtures,
// "{workflowId}_{version}_{workflowId}_{ticks}_{userId}" in Graph's documented examples.
func isGraphKey(id string) bool {
	return id != "" && len(id) <= 255 && !strings.ContainsFunc(id, func(r rune) bool {
		return !(r == '-' || r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	})
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// subjectsOf groups results by user: with failedUsers only users with a failed result, with
// failedTasks only the failed results' tasks (otherwise nil: every task).
func subjectsOf(results []*db.TaskProcessingResult, failedUsers, failedTasks bool) db.ActionSubjects {
	bySubject := map[string]*db.ActionSubject{}
	failed := map[string]bool{}
	var order []string
	for _, r := range results {
		sub, ok := bySubject[r.SubjectID]
		if !ok {
			sub = &db.ActionSubject{SubjectID: r.SubjectID}
			bySubject[r.SubjectID] = sub
			order = append(order, r.SubjectID)
		}
		if r.ProcessingStatus == db.StatusFailed {
			failed[r.SubjectID] = true
			if failedTasks && !slices.Contains(sub.TaskIDs, r.TaskID) {
				sub.TaskIDs = append(sub.TaskIDs, r.TaskID)
			}
		}
	}
	slices.Sort(order)
	var out db.ActionSubjects
	for _, id := range order {
		if failedUsers && !failed[id] {
			continue
		}
		sub := bySubject[id]
		if failedTasks && sub.TaskIDs == nil {
			sub.TaskIDs = []string{} // no failed task: nothing runs again for this user
		}
		slices.Sort(sub.TaskIDs)
		out = append(out, sub)
	}
	return out
}

// do checks, plans, sends and audits one mutation.
func (s *Service) do(ctx context.Context, kind string, args db.ActionArgs, dryRun bool, argKey *string,
	build func(context.Context) (*plan, error)) (*db.Action, error) {
	req := requestFrom(ctx)
	a := &db.Action{ID: uuid.NewString(), CreatedDateTime: time.Now(), Kind: kind, DryRun: dryRun, Arguments: args,
		RequestID: req.ID, Identity: "none", PrincipalID: "anonymous"}
	if p, ok := auth.PrincipalFrom(ctx); ok {
		a.PrincipalID = p.ID
	}
	c, err := s.authorize(ctx)
	if err != nil {
		return nil, s.refused(ctx, a, err)
	}
	a.PrincipalID, a.Identity = c.id, c.identity
	key, err := idempotencyKey(req.IdempotencyKey, argKey)
	if err != nil {
		return nil, s.refused(ctx, a, err)
	}
	p, err := build(ctx)
	if err != nil {
		return nil, s.refused(ctx, a, err)
	}
	a.WorkflowID, a.TargetID, a.Subjects = p.workflowID, p.targetID, p.subjects
	for _, call := range p.calls {
		a.Calls = append(a.Calls, &db.GraphCall{Method: http.MethodPost, URL: s.client.PostURL(call), Body: string(call.Body)})
	}
	if dryRun {
		a.Outcome = "dryRun"
		return s.finish(ctx, a, nil)
	}

	if key != "" {
		digest := sha256.Sum256(append([]byte(kind+"\x00"), mustJSON(args)...))
		first, err := s.store.ClaimIdempotencyKey(ctx, a.PrincipalID, key, hex.EncodeToString(digest[:]), s.cfg.IdempotencyTTL)
		switch {
		case errors.Is(err, db.ErrIdempotencyKeyReused):
			return nil, s.refused(ctx, a, refuse(errcode.BadUserInput, "Idempotency-Key %s was sent with other arguments before: use a new key for a new action", quoteShort(key)))
		case errors.Is(err, db.ErrIdempotencyKeyInUse):
			return nil, refuse(errcode.Conflict, "a request with Idempotency-Key %s is still acting: retry in a moment for its answer", quoteShort(key))
		case err != nil:
			return nil, err
		case first != "":
			return s.replay(ctx, a, first, key)
		}
	}

	var failure *Error
	accepted := 0
	for i, call := range p.calls {
		if failure != nil {
			break // sent no further: what was accepted and what was not stays plain in calls
		}
		call.Tokens = c.tokens
		res, err := s.client.Post(ctx, call)
		rec := a.Calls[i]
		if err != nil {
			failure = graphError(err)
			rec.Sent = failure.GraphStatus != 0 || failure.ClientRequestID != ""
			rec.Status, rec.RequestID, rec.ClientRequestID = failure.GraphStatus, failure.GraphRequestID, failure.ClientRequestID
			rec.ErrorCode, rec.ErrorMessage = failure.Code, failure.Message
			continue
		}
		accepted++
		rec.Sent, rec.Status, rec.RequestID, rec.ClientRequestID = true, res.Status, res.RequestID, res.ClientRequestID
	}
	switch {
	case failure == nil:
		a.Outcome = "succeeded"
	case accepted > 0:
		a.Outcome, a.Message = "partial", failure.Message
	default:
		a.Outcome, a.Message = "failed", failure.Message
	}
	if accepted > 0 && s.resync != nil {
		workflows := p.resync
		if workflows == nil {
			workflows = []string{p.workflowID}
		}
		for _, wf := range workflows {
			s.resync.Resync(tenant.From(ctx), wf, s.cfg.ResyncDelay)
		}
	}
	// The audit row and the key outlive a client that has gone.
	bg := context.WithoutCancel(ctx)
	if key != "" {
		if a.Outcome == "failed" {
			// Graph took nothing: the client's retry with the same key should act, not replay this.
			_ = s.store.ReleaseIdempotencyKey(bg, a.PrincipalID, key)
		} else if err := s.store.CompleteIdempotencyKey(bg, a.PrincipalID, key, a.ID); err != nil {
			s.logger.ErrorContext(ctx, "cannot record the idempotency key's answer", "action_id", a.ID, "error", err.Error())
		}
	}
	if failure != nil {
		return s.finish(bg, a, failure)
	}
	return s.finish(bg, a, nil)
}

// finish records the audit row and logs the line; the action is returned with failure (nil on
// success), so a client sees both what was done and what failed.
func (s *Service) finish(ctx context.Context, a *db.Action, failure *Error) (*db.Action, error) {
	s.log(ctx, a)
	if err := s.store.RecordAction(ctx, a); err != nil {
		return a, err
	}
	if failure != nil {
		return a, failure
	}
	return a, nil
}

// refused audits a mutation stopped before Graph and returns why.
func (s *Service) refused(ctx context.Context, a *db.Action, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err // the store failed: nothing to add to it
	}
	a.Outcome, a.Message = "refused", e.Message
	if s == nil || s.store == nil {
		return err
	}
	s.log(ctx, a)
	if rerr := s.store.RecordAction(context.WithoutCancel(ctx), a); rerr != nil {
		return rerr
	}
	return err
}

// replay answers a repeated Idempotency-Key with the first answer; nothing is sent again.
func (s *Service) replay(ctx context.Context, a *db.Action, firstID, key string) (*db.Action, error) {
	found, err := s.store.ActionsByID(ctx, []string{firstID})
	if err != nil {
		return nil, err
	}
	first, ok := found[firstID]
	if !ok {
		return nil, refuse(errcode.Internal, "the first answer to this Idempotency-Key is missing from the audit trail")
	}
	first.Replayed = true
	s.logger.InfoContext(ctx, "action replayed", "action_id", first.ID, "kind", a.Kind, "principal", a.PrincipalID,
		"tenant", tenant.From(ctx), "idempotency_key", key, "request_id", a.RequestID)
	return first, nil
}

// log is the audit line of a mutation: who, where, what, and Graph's answers.
func (s *Service) log(ctx context.Context, a *db.Action) {
	var statuses []int
	var requestIDs []string
	for _, c := range a.Calls {
		statuses = append(statuses, c.Status)
		if c.RequestID != "" {
			requestIDs = append(requestIDs, c.RequestID)
		}
	}
	level := slog.LevelInfo
	if a.Outcome == "failed" || a.Outcome == "partial" {
		level = slog.LevelWarn
	}
	s.logger.Log(ctx, level, "action", "action_id", a.ID, "kind", a.Kind, "principal", a.PrincipalID, "tenant", tenant.From(ctx),
		"identity", a.Identity, "workflow", a.WorkflowID, "target", a.TargetID, "dry_run", a.DryRun, "outcome", a.Outcome,
		"calls", len(a.Calls), "graph_statuses", statuses, "graph_request_ids", requestIDs, "message", a.Message,
		"request_id", a.RequestID)
}

func idempotencyKey(header string, arg *string) (string, error) {
	key := header
	if arg != nil {
		if header != "" && header != *arg {
			return "", refuse(errcode.BadUserInput, "the Idempotency-Key header and the idempotencyKey argument differ: send one")
		}
		key = *arg
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", refuse(errcode.BadUserInput, "an Idempotency-Key is at most 255 printable characters")
	}
	return key, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
