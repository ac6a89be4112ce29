package db

import "time"

// Derivation rules R1–R8 of spec/lifecycle-workflows.md, section 9, as pure functions. Reports and
// runs imported from Graph keep Graph's values; the gateway uses these for the data it makes up
// itself (demo data, recomputation) and tests use them to check stored aggregates.

// Tally counts task processing results by status. It is the one input every rule needs, and it
// adds up, so a run's tally is the sum of its reports' tallies.
type Tally struct {
	Queued     int
	InProgress int
	Completed  int
	// Failed also counts completedWithErrors: that is an aggregate-level outcome, and a single
	// result that carries it did not fully succeed (R5).
	Failed   int
	Canceled int
	// Other counts unknownFutureValue and any status Graph adds later. Such a result is in the
	// total (R1: one result per user) and, neither succeeded nor failed as far as we can tell,
	// unprocessed — which keeps successful+failed+unprocessed = total. For the status (R6) it
	// weighs like inProgress: we cannot call a report finished while one of its results is in a
	// state we do not understand.
	Other int
}

// Add counts one result.
func (t *Tally) Add(s ProcessingStatus) {
	switch s {
	case StatusQueued:
		t.Queued++
	case StatusInProgress:
		t.InProgress++
	case StatusCompleted:
		t.Completed++
	case StatusFailed, StatusCompletedWithErrors:
		t.Failed++
	case StatusCanceled:
		t.Canceled++
	default:
		t.Other++
	}
}

// Plus is the tally of both sets of results.
func (t Tally) Plus(u Tally) Tally {
	return Tally{
		Queued:     t.Queued + u.Queued,
		InProgress: t.InProgress + u.InProgress,
		Completed:  t.Completed + u.Completed,
		Failed:     t.Failed + u.Failed,
		Canceled:   t.Canceled + u.Canceled,
		Other:      t.Other + u.Other,
	}
}

// TallyOf counts the statuses of results.
func TallyOf(results []TaskProcessingResult) Tally {
	var t Tally
	for i := range results {
		t.Add(results[i].ProcessingStatus)
	}
	return t
}

// Counters are the four counters of a task report.
type Counters struct {
	Successful  int // R2: completed
	Failed      int // R3 and R5: failed or completedWithErrors
	Unprocessed int // R4: queued, inProgress or canceled (and unknown statuses, see Tally.Other)
	Total       int // R1: one result per user
}

// Counters applies R1–R5; Successful+Failed+Unprocessed = Total always holds.
func (t Tally) Counters() Counters {
	return Counters{
		Successful:  t.Completed,
		Failed:      t.Failed,
		Unprocessed: t.Queued + t.InProgress + t.Canceled + t.Other,
		Total:       t.Total(),
	}
}

// Total is the number of results counted.
func (t Tally) Total() int {
	return t.Queued + t.InProgress + t.Completed + t.Failed + t.Canceled + t.Other
}

// Status applies R6, in the spec's order.
func (t Tally) Status() ProcessingStatus {
	total := t.Total()
	switch {
	case total == 0: // 1. nothing scheduled yet
		return StatusQueued
	case t.Queued == total: // 2. all waiting
		return StatusQueued
	case t.InProgress > 0 || t.Other > 0 || t.Queued > 0: // 3. running, or partly done and partly waiting
		return StatusInProgress
	case t.Canceled == total: // 4.
		return StatusCanceled
	case t.Failed == 0 && t.Canceled == 0: // 5. all finished from here on
		return StatusCompleted
	case t.Completed == 0 && t.Failed > 0:
		return StatusFailed
	default:
		return StatusCompletedWithErrors
	}
}

// IsFinished tells whether a status is final: the object it belongs to will not change any more.
// An unknown status is not: sync fetching a finished run again costs a request, missing an
// update costs correctness.
func (s ProcessingStatus) IsFinished() bool {
	switch s {
	case StatusCompleted, StatusCompletedWithErrors, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// ReportDerivation is what R1–R7 make of a task report's results.
type ReportDerivation struct {
	Counters
	ProcessingStatus    ProcessingStatus
	StartedDateTime     *time.Time
	CompletedDateTime   *time.Time
	LastUpdatedDateTime time.Time
}

// DeriveReport applies R1–R7 to the results of one task in one run. run must already carry its
// own completion (see DeriveRun), because a report completes when its run does.
//
// Timestamps (R7): completedDateTime is the run's, null until the run completes;
// startedDateTime is the earliest result start, null while no result has started (and so never
// before the run's start, as results start after their run); lastUpdatedDateTime is the latest
// timestamp of any result or of the report's own completion — the earliest moment all of it was
// known. A report without results was last touched when its run was scheduled.
func DeriveReport(results []TaskProcessingResult, run Run) ReportDerivation {
	t := TallyOf(results)
	d := ReportDerivation{
		Counters:          t.Counters(),
		ProcessingStatus:  t.Status(),
		CompletedDateTime: cloneTime(run.CompletedDateTime),
	}
	var last *time.Time
	for i := range results {
		r := &results[i]
		d.StartedDateTime = earlierTime(d.StartedDateTime, r.StartedDateTime)
		last = laterTime(last, &r.CreatedDateTime)
		last = laterTime(last, r.StartedDateTime)
		last = laterTime(last, r.CompletedDateTime)
	}
	d.StartedDateTime = cloneTime(d.StartedDateTime)
	last = laterTime(last, d.CompletedDateTime)
	if last == nil {
		last = &run.ScheduledDateTime
	}
	d.LastUpdatedDateTime = *last
	return d
}

// ApplyTo writes the derived values into r.
func (d ReportDerivation) ApplyTo(r *TaskReport) {
	r.ProcessingStatus = d.ProcessingStatus
	r.SuccessfulUsersCount = d.Successful
	r.FailedUsersCount = d.Failed
	r.UnprocessedUsersCount = d.Unprocessed
	r.TotalUsersCount = d.Total
	r.StartedDateTime = cloneTime(d.StartedDateTime)
	r.CompletedDateTime = cloneTime(d.CompletedDateTime)
	r.LastUpdatedDateTime = d.LastUpdatedDateTime
}

// RunDerivation is what R8 makes of a run's results.
type RunDerivation struct {
	ProcessingStatus           ProcessingStatus
	StartedDateTime            *time.Time
	CompletedDateTime          *time.Time
	LastUpdatedDateTime        *time.Time
	TotalUsersCount            int
	SuccessfulUsersCount       int
	FailedUsersCount           int
	TotalTasksCount            int
	FailedTasksCount           int
	TotalUnprocessedTasksCount int
}

// DeriveRun applies R8 to all results of one run (every task, every user).
//
//   - Task counters are the report counters summed over the run's reports, i.e. taken over all
//     its results: totalTasksCount = Σ total, failedTasksCount = Σ failed,
//     totalUnprocessedTasksCount = Σ unprocessed.
//   - totalUsersCount is the number of distinct users. A user succeeded when all of their results
//     completed and failed when any of them failed (completedWithErrors included, R5) — the same
//     rule as the userSummary aggregate, so a run and the summary of its users agree. Users still
//     in flight without a failure, or only canceled, are neither.
//   - processingStatus is R6 applied to all the run's results: a run where one user failed one
//     task is completedWithErrors, one where nothing succeeded and something failed is failed,
//     one still running is inProgress.
//   - startedDateTime is the run's own start, or the earliest result start if that is earlier
//     or the run has none; completedDateTime, only once the status is final, is the later of the
//     run's own completion and the latest result timestamp (null before); lastUpdatedDateTime is
//     the latest of all of these, or the scheduled time of a run without any.
//
// Applying DeriveRun to a run it produced gives the same values again.
func DeriveRun(results []TaskProcessingResult, run Run) RunDerivation {
	var all Tally
	users := make(map[string]*Tally)
	d := RunDerivation{StartedDateTime: cloneTime(run.StartedDateTime)}
	var last *time.Time
	for i := range results {
		r := &results[i]
		all.Add(r.ProcessingStatus)
		u := users[r.SubjectID]
		if u == nil {
			u = &Tally{}
			users[r.SubjectID] = u
		}
		u.Add(r.ProcessingStatus)
		d.StartedDateTime = earlierTime(d.StartedDateTime, r.StartedDateTime)
		last = laterTime(last, &r.CreatedDateTime)
		last = laterTime(last, r.StartedDateTime)
		last = laterTime(last, r.CompletedDateTime)
	}
	c := all.Counters()
	d.ProcessingStatus = all.Status()
	d.TotalTasksCount, d.FailedTasksCount, d.TotalUnprocessedTasksCount = c.Total, c.Failed, c.Unprocessed
	d.TotalUsersCount = len(users)
	for _, u := range users {
		switch {
		case u.Failed > 0:
			d.FailedUsersCount++
		case u.Completed == u.Total():
			d.SuccessfulUsersCount++
		}
	}
	d.StartedDateTime = cloneTime(d.StartedDateTime)
	if d.ProcessingStatus.IsFinished() {
		d.CompletedDateTime = cloneTime(laterTime(run.CompletedDateTime, last))
	}
	last = laterTime(last, d.StartedDateTime)
	last = laterTime(last, d.CompletedDateTime)
	if last == nil {
		last = &run.ScheduledDateTime
	}
	d.LastUpdatedDateTime = cloneTime(last)
	return d
}

// ApplyTo writes the derived values into r.
func (d RunDerivation) ApplyTo(r *Run) {
	r.ProcessingStatus = d.ProcessingStatus
	r.StartedDateTime = cloneTime(d.StartedDateTime)
	r.CompletedDateTime = cloneTime(d.CompletedDateTime)
	r.LastUpdatedDateTime = cloneTime(d.LastUpdatedDateTime)
	r.TotalUsersCount = d.TotalUsersCount
	r.SuccessfulUsersCount = d.SuccessfulUsersCount
	r.FailedUsersCount = d.FailedUsersCount
	r.TotalTasksCount = d.TotalTasksCount
	r.FailedTasksCount = d.FailedTasksCount
	r.TotalUnprocessedTasksCount = d.TotalUnprocessedTasksCount
}

// DeriveUserResults applies R8 to the results of one run per user: one user processing result per
// subject, in the order subjects first appear, with the counters of that user's results (the same
// buckets as a report's, R2–R5), the status R6 gives them, the run's execution type and scheduled
// time, and the workflow version that ran. Its startedDateTime is the user's earliest result
// start; completedDateTime, once the status is final, the latest result timestamp. So a failed
// user (any failed task) and a successful one (every task completed) are exactly the users
// userSummary counts as such. id names each result from its subject.
func DeriveUserResults(results []TaskProcessingResult, run Run, workflowVersion int, id func(subjectID string) string) []UserProcessingResult {
	type user struct {
		tally     Tally
		started   *time.Time
		last      *time.Time
		completed *time.Time
	}
	var order []string
	users := map[string]*user{}
	for i := range results {
		r := &results[i]
		u := users[r.SubjectID]
		if u == nil {
			u = &user{}
			users[r.SubjectID] = u
			order = append(order, r.SubjectID)
		}
		u.tally.Add(r.ProcessingStatus)
		u.started = earlierTime(u.started, r.StartedDateTime)
		u.last = laterTime(u.last, r.StartedDateTime)
		u.last = laterTime(u.last, r.CompletedDateTime)
	}
	out := make([]UserProcessingResult, len(order))
	for i, subject := range order {
		u := users[subject]
		c := u.tally.Counters()
		status := u.tally.Status()
		if status.IsFinished() {
			u.completed = u.last
		}
		out[i] = UserProcessingResult{TenantID: run.TenantID, ID: id(subject), WorkflowID: run.WorkflowID, RunID: run.ID,
			SubjectID: subject, ProcessingStatus: status, WorkflowExecutionType: run.WorkflowExecutionType,
			WorkflowVersion: workflowVersion, ScheduledDateTime: run.ScheduledDateTime,
			StartedDateTime: cloneTime(u.started), CompletedDateTime: cloneTime(u.completed),
			TotalTasksCount: c.Total, FailedTasksCount: c.Failed, TotalUnprocessedTasksCount: c.Unprocessed}
	}
	return out
}

// cloneTime keeps derived values from aliasing their inputs.
func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func earlierTime(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

func laterTime(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}
