package msgraph

import (
	"fmt"

	"lcw-gateway/db"
	"log/slog"
)

// Stats counts what a walk handed to its sink: records of each collection, and distinct ids
// of the entities that also arrive inline (task definitions, tasks, users).
type Stats struct {
	TaskDefinitions       int
	Workflows             int
	Tasks                 int
	Runs                  int
	TaskReports           int
	TaskProcessingResults int
	UserProcessingResults int
	WorkflowVersions      int
	DeletedWorkflows      int
	Users                 int
	// UnchangedRuns counts runs an incremental walk listed but did not fetch again: their reports
	// and results were stored already, as of the same version.
	UnchangedRuns int
	// Written is what the sink did with the rows it was handed: created, updated, unchanged.
	Written db.WriteStats
}

func (s Stats) String() string {
	out := fmt.Sprintf("%d task definitions, %d workflows, %d tasks, %d runs, %d task reports, %d task processing results, %d users",
		s.TaskDefinitions, s.Workflows, s.Tasks, s.Runs, s.TaskReports, s.TaskProcessingResults, s.Users)
	if s.UserProcessingResults+s.WorkflowVersions+s.DeletedWorkflows > 0 {
		out += fmt.Sprintf(", %d user processing results, %d workflow versions, %d deleted workflows",
			s.UserProcessingResults, s.WorkflowVersions, s.DeletedWorkflows)
	}
	if s.UnchangedRuns > 0 {
		out += fmt.Sprintf(" (%d runs unchanged)", s.UnchangedRuns)
	}
	return out
}

// Records is Stats without what the sink did: the same for every walk over the same data.
func (s Stats) Records() Stats {
	s.Written = db.WriteStats{}
	return s
}

// RecordAttrs are the records of each collection as log attributes, for a closing line.
func (s Stats) RecordAttrs() []any {
	return []any{"taskDefinitions", s.TaskDefinitions, "workflows", s.Workflows, "tasks", s.Tasks, "runs", s.Runs,
		"unchangedRuns", s.UnchangedRuns, "taskReports", s.TaskReports, "taskProcessingResults", s.TaskProcessingResults,
		"userProcessingResults", s.UserProcessingResults, "workflowVersions", s.WorkflowVersions, "deletedWorkflows", s.DeletedWorkflows,
		"users", s.Users}
}

// WrittenAttrs say, as log attributes, how many rows the walk created, updated and left
// unchanged: in total, and per entity in a group "written".
func (s Stats) WrittenAttrs() []any {
	total := s.Written.Total()
	var per []any
	s.Written.Each(func(entity string, c db.Counts) { per = append(per, slog.String(entity, c.String())) })
	return []any{"created", total.Created, "updated", total.Updated, "unchanged", total.Unchanged, slog.Group("written", per...)}
}
