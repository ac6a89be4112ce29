package db

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

const (
	stQ   = StatusQueued
	stIP  = StatusInProgress
	stOK  = StatusCompleted
	stCWE = StatusCompletedWithErrors
	stCX  = StatusCanceled
	stKO  = StatusFailed
	stUFV = StatusUnknownFutureValue
)

func statusResults(statuses ...ProcessingStatus) []TaskProcessingResult {
	out := make([]TaskProcessingResult, len(statuses))
	for i, s := range statuses {
		out[i] = TaskProcessingResult{ID: fmt.Sprint(i), SubjectID: fmt.Sprint("user", i), ProcessingStatus: s}
	}
	return out
}

func TestDeriveReportCountersAndStatus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []ProcessingStatus
		want     Counters
		status   ProcessingStatus
	}{
		{"R6.1 no results", nil, Counters{}, stQ},
		{"R6.2 all queued", []ProcessingStatus{stQ, stQ, stQ}, Counters{Unprocessed: 3, Total: 3}, stQ},
		{"R6.3 one in progress", []ProcessingStatus{stOK, stIP, stOK}, Counters{Successful: 2, Unprocessed: 1, Total: 3}, stIP},
		{"R6.3 all in progress", []ProcessingStatus{stIP, stIP}, Counters{Unprocessed: 2, Total: 2}, stIP},
		{"R6.3 queued with in progress", []ProcessingStatus{stQ, stIP}, Counters{Unprocessed: 2, Total: 2}, stIP},
		{"R6.3 queued mixed with completed", []ProcessingStatus{stQ, stOK}, Counters{Successful: 1, Unprocessed: 1, Total: 2}, stIP},
		{"R6.3 queued mixed with failed", []ProcessingStatus{stKO, stQ}, Counters{Failed: 1, Unprocessed: 1, Total: 2}, stIP},
		{"R6.3 queued mixed with canceled", []ProcessingStatus{stCX, stQ, stQ}, Counters{Unprocessed: 3, Total: 3}, stIP},
		{"R6.4 all canceled", []ProcessingStatus{stCX, stCX}, Counters{Unprocessed: 2, Total: 2}, stCX},
		{"R6.5 all completed", []ProcessingStatus{stOK, stOK}, Counters{Successful: 2, Total: 2}, stOK},
		{"R6.5 one completed", []ProcessingStatus{stOK}, Counters{Successful: 1, Total: 1}, stOK},
		{"R6.5 completed and canceled", []ProcessingStatus{stOK, stCX}, Counters{Successful: 1, Unprocessed: 1, Total: 2}, stCWE},
		{"R6.5 completed and failed", []ProcessingStatus{stOK, stKO, stOK}, Counters{Successful: 2, Failed: 1, Total: 3}, stCWE},
		{"R6.5 completed, failed and canceled", []ProcessingStatus{stOK, stKO, stCX}, Counters{Successful: 1, Failed: 1, Unprocessed: 1, Total: 3}, stCWE},
		{"R6.5 docs example: 1 failed + 2 unprocessed + 0 succeeded", []ProcessingStatus{stKO, stCX, stCX}, Counters{Failed: 1, Unprocessed: 2, Total: 3}, stKO},
		{"R6.5 all failed", []ProcessingStatus{stKO, stKO}, Counters{Failed: 2, Total: 2}, stKO},
		{"R5 completedWithErrors on a result counts as failed", []ProcessingStatus{stCWE}, Counters{Failed: 1, Total: 1}, stKO},
		{"R5 completedWithErrors next to completed", []ProcessingStatus{stOK, stCWE}, Counters{Successful: 1, Failed: 1, Total: 2}, stCWE},
		{"unknownFutureValue is unprocessed and not finished", []ProcessingStatus{stOK, stUFV}, Counters{Successful: 1, Unprocessed: 1, Total: 2}, stIP},
		{"a status Graph adds later is unprocessed and not finished", []ProcessingStatus{"skipped", stKO}, Counters{Failed: 1, Unprocessed: 1, Total: 2}, stIP},
		{"only unknown statuses", []ProcessingStatus{stUFV}, Counters{Unprocessed: 1, Total: 1}, stIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DeriveReport(statusResults(tc.statuses...), Run{})
			if d.Counters != tc.want {
				t.Errorf("counters = %+v, want %+v", d.Counters, tc.want)
			}
			if d.ProcessingStatus != tc.status {
				t.Errorf("status = %s, want %s", d.ProcessingStatus, tc.status)
			}
			checkInvariant(t, d.Counters)
		})
	}
}

func checkInvariant(t *testing.T, c Counters) {
	t.Helper()
	if c.Successful+c.Failed+c.Unprocessed != c.Total || c.Successful < 0 || c.Failed < 0 || c.Unprocessed < 0 {
		t.Errorf("invariant successful+failed+unprocessed = total broken: %+v", c)
	}
}

// TestTallyEveryCombination runs every multiset of up to four statuses through R1–R6 and checks
// what must hold whatever the mix: the invariant, and that a status is final exactly when every
// result is.
func TestTallyEveryCombination(t *testing.T) {
	all := []ProcessingStatus{stQ, stIP, stOK, stCWE, stCX, stKO, stUFV, "someLaterValue"}
	var walk func(prefix []ProcessingStatus, from int)
	walk = func(prefix []ProcessingStatus, from int) {
		d := DeriveReport(statusResults(prefix...), Run{})
		checkInvariant(t, d.Counters)
		if d.Total != len(prefix) {
			t.Errorf("%v: total %d, want %d (R1)", prefix, d.Total, len(prefix))
		}
		allFinal := len(prefix) > 0
		for _, s := range prefix {
			allFinal = allFinal && s.IsFinished()
		}
		if d.ProcessingStatus.IsFinished() != allFinal {
			t.Errorf("%v: status %s, but every result final = %v", prefix, d.ProcessingStatus, allFinal)
		}
		if d.ProcessingStatus == stOK && (d.Successful != d.Total || d.Total == 0) {
			t.Errorf("%v: completed with %+v", prefix, d.Counters)
		}
		if d.ProcessingStatus == stKO && (d.Successful != 0 || d.Failed == 0) {
			t.Errorf("%v: failed with %+v", prefix, d.Counters)
		}
		if len(prefix) == 4 {
			return
		}
		for i := from; i < len(all); i++ {
			walk(append(prefix[:len(prefix):len(prefix)], all[i]), i)
		}
	}
	walk(nil, 0)
}

func ts(s string) *time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &v
}

func TestDeriveReportTimestamps(t *testing.T) {
	scheduled := *ts("2022-08-24T23:28:01.647655Z")
	runDone := ts("2022-08-24T23:28:11.134886Z")
	results := []TaskProcessingResult{
		{SubjectID: "a", ProcessingStatus: stOK, CreatedDateTime: *ts("2022-08-24T23:28:04.549099Z"),
			StartedDateTime: ts("2022-08-24T23:28:05.123496Z"), CompletedDateTime: ts("2022-08-24T23:28:05.352919Z")},
		{SubjectID: "b", ProcessingStatus: stOK, CreatedDateTime: *ts("2022-08-24T23:28:04.549099Z"),
			StartedDateTime: ts("2022-08-24T23:28:04.978000Z"), CompletedDateTime: ts("2022-08-24T23:28:06.000001Z")},
		{SubjectID: "c", ProcessingStatus: stQ, CreatedDateTime: *ts("2022-08-24T23:28:04.549099Z")},
	}
	for _, tc := range []struct {
		name               string
		results            []TaskProcessingResult
		run                Run
		started, completed *time.Time
		lastUpdated        time.Time
	}{
		{"run not completed: report not completed", results, Run{ScheduledDateTime: scheduled},
			ts("2022-08-24T23:28:04.978Z"), nil, *ts("2022-08-24T23:28:06.000001Z")},
		{"run completed: report completes with it", results[:2], Run{ScheduledDateTime: scheduled, CompletedDateTime: runDone},
			ts("2022-08-24T23:28:04.978Z"), runDone, *runDone},
		{"nothing started yet", results[2:], Run{ScheduledDateTime: scheduled},
			nil, nil, results[2].CreatedDateTime},
		{"no results", nil, Run{ScheduledDateTime: scheduled}, nil, nil, scheduled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DeriveReport(tc.results, tc.run)
			if !timeEq(d.StartedDateTime, tc.started) {
				t.Errorf("startedDateTime = %v, want %v", d.StartedDateTime, tc.started)
			}
			if !timeEq(d.CompletedDateTime, tc.completed) {
				t.Errorf("completedDateTime = %v, want %v", d.CompletedDateTime, tc.completed)
			}
			if !d.LastUpdatedDateTime.Equal(tc.lastUpdated) {
				t.Errorf("lastUpdatedDateTime = %v, want %v", d.LastUpdatedDateTime, tc.lastUpdated)
			}
			for _, r := range tc.results {
				for _, v := range []*time.Time{&r.CreatedDateTime, r.StartedDateTime, r.CompletedDateTime} {
					if v != nil && v.After(d.LastUpdatedDateTime) {
						t.Errorf("lastUpdatedDateTime %v before result timestamp %v", d.LastUpdatedDateTime, v)
					}
				}
			}
			// Derived values must not alias their inputs: a caller reuses its buffers.
			if d.StartedDateTime != nil {
				for i := range tc.results {
					if d.StartedDateTime == tc.results[i].StartedDateTime {
						t.Error("startedDateTime aliases a result's")
					}
				}
			}
			if d.CompletedDateTime != nil && d.CompletedDateTime == tc.run.CompletedDateTime {
				t.Error("completedDateTime aliases the run's")
			}
		})
	}
}

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// runResult is one result of a run: user, task, status and seconds after 12:00 for its
// timestamps (negative: not set).
func runResult(user, task string, s ProcessingStatus, created, started, completed int) TaskProcessingResult {
	base := time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)
	at := func(sec int) *time.Time {
		if sec < 0 {
			return nil
		}
		v := base.Add(time.Duration(sec) * time.Second)
		return &v
	}
	return TaskProcessingResult{ID: user + "/" + task, SubjectID: user, TaskID: task, ProcessingStatus: s,
		CreatedDateTime: *at(created), StartedDateTime: at(started), CompletedDateTime: at(completed)}
}

func TestDeriveRun(t *testing.T) {
	at := func(sec int) *time.Time {
		v := time.Date(2024, 5, 6, 12, 0, sec, 0, time.UTC)
		return &v
	}
	scheduled := *at(0)
	for _, tc := range []struct {
		name    string
		results []TaskProcessingResult
		run     Run
		want    RunDerivation
	}{
		{
			// The docs' example run: two users, two tasks, all completed.
			name: "docs example",
			results: []TaskProcessingResult{
				runResult("u1", "t1", stOK, 3, 4, 5), runResult("u1", "t2", stOK, 3, 5, 6),
				runResult("u2", "t1", stOK, 3, 4, 5), runResult("u2", "t2", stOK, 3, 5, 7),
			},
			run: Run{ScheduledDateTime: scheduled, StartedDateTime: at(3), CompletedDateTime: at(10)},
			want: RunDerivation{ProcessingStatus: stOK, StartedDateTime: at(3), CompletedDateTime: at(10), LastUpdatedDateTime: at(10),
				TotalUsersCount: 2, SuccessfulUsersCount: 2, TotalTasksCount: 4},
		},
		{
			name: "one user fails, later task canceled",
			results: []TaskProcessingResult{
				runResult("u1", "t1", stOK, 1, 2, 3), runResult("u1", "t2", stOK, 1, 3, 4),
				runResult("u2", "t1", stKO, 1, 2, 5), runResult("u2", "t2", stCX, 1, -1, 5),
			},
			run: Run{ScheduledDateTime: scheduled, StartedDateTime: at(1)},
			want: RunDerivation{ProcessingStatus: stCWE, StartedDateTime: at(1), CompletedDateTime: at(5), LastUpdatedDateTime: at(5),
				TotalUsersCount: 2, SuccessfulUsersCount: 1, FailedUsersCount: 1, TotalTasksCount: 4, FailedTasksCount: 1,
				TotalUnprocessedTasksCount: 1},
		},
		{
			name: "every user fails the first task",
			results: []TaskProcessingResult{
				runResult("u1", "t1", stKO, 1, 2, 3), runResult("u1", "t2", stCX, 1, -1, 3),
				runResult("u2", "t1", stKO, 1, 2, 4), runResult("u2", "t2", stCX, 1, -1, 4),
			},
			run: Run{ScheduledDateTime: scheduled, StartedDateTime: at(1), CompletedDateTime: at(6)},
			want: RunDerivation{ProcessingStatus: stKO, StartedDateTime: at(1), CompletedDateTime: at(6), LastUpdatedDateTime: at(6),
				TotalUsersCount: 2, FailedUsersCount: 2, TotalTasksCount: 4, FailedTasksCount: 2, TotalUnprocessedTasksCount: 2},
		},
		{
			// A completion time given for a run that is not finished is dropped (null until done).
			name: "in progress",
			results: []TaskProcessingResult{
				runResult("u1", "t1", stOK, 1, 2, 3), runResult("u1", "t2", stIP, 1, 4, -1),
				runResult("u2", "t1", stKO, 1, 5, 6), runResult("u2", "t2", stQ, 1, -1, -1),
				runResult("u3", "t1", stQ, 1, -1, -1), runResult("u3", "t2", stQ, 1, -1, -1),
			},
			run: Run{ScheduledDateTime: scheduled, StartedDateTime: at(2), CompletedDateTime: at(9)},
			want: RunDerivation{ProcessingStatus: stIP, StartedDateTime: at(2), LastUpdatedDateTime: at(6),
				TotalUsersCount: 3, FailedUsersCount: 1, TotalTasksCount: 6, FailedTasksCount: 1, TotalUnprocessedTasksCount: 4},
		},
		{
			name:    "queued",
			results: []TaskProcessingResult{runResult("u1", "t1", stQ, 1, -1, -1), runResult("u1", "t2", stQ, 1, -1, -1)},
			run:     Run{ScheduledDateTime: scheduled},
			want: RunDerivation{ProcessingStatus: stQ, LastUpdatedDateTime: at(1),
				TotalUsersCount: 1, TotalTasksCount: 2, TotalUnprocessedTasksCount: 2},
		},
		{
			// The run's start is taken from the results when it has none of its own.
			name:    "start from results",
			results: []TaskProcessingResult{runResult("u1", "t1", stCX, 1, -1, 2), runResult("u2", "t1", stCX, 1, -1, 2)},
			run:     Run{ScheduledDateTime: scheduled},
			want: RunDerivation{ProcessingStatus: stCX, CompletedDateTime: at(2), LastUpdatedDateTime: at(2),
				TotalUsersCount: 2, TotalTasksCount: 2, TotalUnprocessedTasksCount: 2},
		},
		{
			name: "no results",
			run:  Run{ScheduledDateTime: scheduled},
			want: RunDerivation{ProcessingStatus: stQ, LastUpdatedDateTime: at(0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DeriveRun(tc.results, tc.run)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DeriveRun =\n %s\nwant\n %s", showRun(got), showRun(tc.want))
			}
			// R8: the run's task counters are the sums over its reports.
			byTask := map[string][]TaskProcessingResult{}
			for _, r := range tc.results {
				byTask[r.TaskID] = append(byTask[r.TaskID], r)
			}
			var sum Counters
			for _, rs := range byTask {
				c := DeriveReport(rs, tc.run).Counters
				sum.Total += c.Total
				sum.Failed += c.Failed
				sum.Unprocessed += c.Unprocessed
			}
			if sum.Total != got.TotalTasksCount || sum.Failed != got.FailedTasksCount || sum.Unprocessed != got.TotalUnprocessedTasksCount {
				t.Errorf("run task counters %+v are not the sums over its reports %+v", got, sum)
			}
			// Deriving a derived run again changes nothing.
			run := tc.run
			got.ApplyTo(&run)
			if again := DeriveRun(tc.results, run); !reflect.DeepEqual(again, got) {
				t.Errorf("not idempotent:\n %s\nthen\n %s", showRun(got), showRun(again))
			}
		})
	}
}

func showRun(d RunDerivation) string {
	f := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.Format("15:04:05")
	}
	return fmt.Sprintf("status=%s users=%d/%d/%d tasks=%d/%d/%d started=%s completed=%s lastUpdated=%s",
		d.ProcessingStatus, d.TotalUsersCount, d.SuccessfulUsersCount, d.FailedUsersCount,
		d.TotalTasksCount, d.FailedTasksCount, d.TotalUnprocessedTasksCount,
		f(d.StartedDateTime), f(d.CompletedDateTime), f(d.LastUpdatedDateTime))
}

func TestApplyTo(t *testing.T) {
	results := []TaskProcessingResult{runResult("u1", "t1", stOK, 1, 2, 3), runResult("u2", "t1", stKO, 1, 2, 4)}
	var run Run
	DeriveRun(results, run).ApplyTo(&run)
	var report TaskReport
	d := DeriveReport(results, run)
	d.ApplyTo(&report)
	if report.ProcessingStatus != stCWE || report.SuccessfulUsersCount != 1 || report.FailedUsersCount != 1 ||
		report.UnprocessedUsersCount != 0 || report.TotalUsersCount != 2 {
		t.Errorf("report = %+v", report)
	}
	if !timeEq(report.CompletedDateTime, run.CompletedDateTime) || report.CompletedDateTime == run.CompletedDateTime {
		t.Errorf("report completedDateTime %v, run %v: want equal values, not the same pointer", report.CompletedDateTime, run.CompletedDateTime)
	}
	if run.TotalTasksCount != 2 || run.FailedUsersCount != 1 || run.SuccessfulUsersCount != 1 || run.ProcessingStatus != stCWE {
		t.Errorf("run = %+v", run)
	}
}
