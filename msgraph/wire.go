package msgraph

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// The wire types mirror Graph's JSON. Timestamps stay strings here so that a bad one is
// reported with its property name; enums stay strings so that a value Graph adds later is
// stored as received.

type wireTaskDefinition struct {
	ID              string           `json:"id"`
	Category        string           `json:"category"`
	ContinueOnError *bool            `json:"continueOnError"`
	Description     *string          `json:"description"`
	DisplayName     string           `json:"displayName"`
	Parameters      []*wireParameter `json:"parameters"`
	Version         int              `json:"version"`
}

type wireParameter struct {
	Name      string   `json:"name"`
	Values    []string `json:"values"`
	ValueType string   `json:"valueType"`
}

type wireWorkflow struct {
	ID                      string  `json:"id"`
	DisplayName             string  `json:"displayName"`
	Description             *string `json:"description"`
	Category                string  `json:"category"`
	IsEnabled               bool    `json:"isEnabled"`
	IsSchedulingEnabled     bool    `json:"isSchedulingEnabled"`
	Version                 int     `json:"version"`
	CreatedDateTime         *string `json:"createdDateTime"`
	LastModifiedDateTime    *string `json:"lastModifiedDateTime"`
	DeletedDateTime         *string `json:"deletedDateTime"`
	NextScheduleRunDateTime *string `json:"nextScheduleRunDateTime"`
}

type wireTask struct {
	ID                string              `json:"id"`
	Arguments         []*wireKeyValuePair `json:"arguments"`
	Category          string              `json:"category"`
	ContinueOnError   bool                `json:"continueOnError"`
	Description       *string             `json:"description"`
	DisplayName       string              `json:"displayName"`
	ExecutionSequence int                 `json:"executionSequence"`
	IsEnabled         bool                `json:"isEnabled"`
	TaskDefinitionID  string              `json:"taskDefinitionId"`
}

type wireKeyValuePair struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

type wireRun struct {
	ID                         string  `json:"id"`
	ProcessingStatus           string  `json:"processingStatus"`
	WorkflowExecutionType      string  `json:"workflowExecutionType"`
	ScheduledDateTime          *string `json:"scheduledDateTime"`
	StartedDateTime            *string `json:"startedDateTime"`
	CompletedDateTime          *string `json:"completedDateTime"`
	LastUpdatedDateTime        *string `json:"lastUpdatedDateTime"`
	TotalUsersCount            int     `json:"totalUsersCount"`
	SuccessfulUsersCount       int     `json:"successfulUsersCount"`
	FailedUsersCount           int     `json:"failedUsersCount"`
	TotalTasksCount            int     `json:"totalTasksCount"`
	FailedTasksCount           int     `json:"failedTasksCount"`
	TotalUnprocessedTasksCount int     `json:"totalUnprocessedTasksCount"`
}

// wireTaskReport is a report as listed with $expand=task,taskDefinition.
type wireTaskReport struct {
	ID                    string              `json:"id"`
	RunID                 string              `json:"runId"`
	ProcessingStatus      string              `json:"processingStatus"`
	SuccessfulUsersCount  int                 `json:"successfulUsersCount"`
	FailedUsersCount      int                 `json:"failedUsersCount"`
	UnprocessedUsersCount int                 `json:"unprocessedUsersCount"`
	TotalUsersCount       int                 `json:"totalUsersCount"`
	StartedDateTime       *string             `json:"startedDateTime"`
	CompletedDateTime     *string             `json:"completedDateTime"`
	LastUpdatedDateTime   *string             `json:"lastUpdatedDateTime"`
	Task                  *wireTask           `json:"task"`
	TaskDefinition        *wireTaskDefinition `json:"taskDefinition"`
}

type wireTaskProcessingResult struct {
	ID                string    `json:"id"`
	CreatedDateTime   *string   `json:"createdDateTime"`
	StartedDateTime   *string   `json:"startedDateTime"`
	CompletedDateTime *string   `json:"completedDateTime"`
	ProcessingStatus  string    `json:"processingStatus"`
	FailureReason     *string   `json:"failureReason"`
	ProcessingInfo    *string   `json:"processingInfo"`
	Subject           *wireRef  `json:"subject"`
	Task              *wireTask `json:"task"`
}

// wireWorkflowVersion is one saved version of a workflow, listed under the workflow.
type wireWorkflowVersion struct {
	VersionNumber        int     `json:"versionNumber"`
	DisplayName          string  `json:"displayName"`
	Description          *string `json:"description"`
	Category             string  `json:"category"`
	IsEnabled            bool    `json:"isEnabled"`
	IsSchedulingEnabled  bool    `json:"isSchedulingEnabled"`
	CreatedDateTime      *string `json:"createdDateTime"`
	LastModifiedDateTime *string `json:"lastModifiedDateTime"`
}

// wireUserProcessingResult is one user's execution of a run, listed under the run.
type wireUserProcessingResult struct {
	ID                         string   `json:"id"`
	ProcessingStatus           string   `json:"processingStatus"`
	WorkflowExecutionType      string   `json:"workflowExecutionType"`
	WorkflowVersion            int      `json:"workflowVersion"`
	ScheduledDateTime          *string  `json:"scheduledDateTime"`
	StartedDateTime            *string  `json:"startedDateTime"`
	CompletedDateTime          *string  `json:"completedDateTime"`
	TotalTasksCount            int      `json:"totalTasksCount"`
	FailedTasksCount           int      `json:"failedTasksCount"`
	TotalUnprocessedTasksCount int      `json:"totalUnprocessedTasksCount"`
	Subject                    *wireRef `json:"subject"`
}

type wireRef struct {
	ID string `json:"id"`
}

type wireUser struct {
	ID                string  `json:"id"`
	DisplayName       *string `json:"displayName"`
	UserPrincipalName *string `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
}

// errNoID marks a record without an id: nothing could be upserted for it.
var errNoID = errors.New("record has no id")

// graphID checks an id and gives its stored form. Ids become URL path segments (and file
// names), so one that could climb out of its collection is refused.
func graphID(field, id string) (string, error) {
	id = strings.TrimSpace(id)
	switch {
	case id == "" && field == "id":
		return "", errNoID
	case id == "":
		return "", fmt.Errorf("%s is missing", field)
	case id == "." || id == ".." || strings.ContainsAny(id, `/\?#`) || strings.IndexFunc(id, isControl) >= 0:
		return "", fmt.Errorf("%s %q is not a Graph id", field, id)
	}
	return tenant.NormalizeID(id), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parseTime reads a Graph DateTimeOffset. The store keeps UTC to the microsecond (what
// PostgreSQL holds), so both engines store the same instant.
func parseTime(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not an RFC 3339 timestamp", field, *s)
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t, nil
}

// requiredTime is parseTime for properties Graph documents as non-nullable.
func requiredTime(field string, s *string) (time.Time, error) {
	t, err := parseTime(field, s)
	if err != nil {
		return time.Time{}, err
	}
	if t == nil {
		return time.Time{}, fmt.Errorf("%s is missing", field)
	}
	return *t, nil
}

func (w *wireTaskDefinition) model() (db.TaskDefinition, error) {
	id, err := graphID("id", w.ID)
	if err != nil {
		return db.TaskDefinition{}, err
	}
	params := make(db.Parameters, 0, len(w.Parameters))
	for _, p := range w.Parameters {
		if p == nil {
			continue
		}
		values := p.Values
		if values == nil {
			values = []string{}
		}
		params = append(params, &db.Parameter{Name: p.Name, Values: values, ValueType: db.ValueType(p.ValueType)})
	}
	return db.TaskDefinition{
		ID:              id,
		Category:        db.ParseTaskCategories(w.Category),
		ContinueOnError: w.ContinueOnError,
		Description:     w.Description,
		DisplayName:     w.DisplayName,
		Parameters:      params,
		Version:         w.Version,
	}, nil
}

func (w *wireWorkflow) model() (db.Workflow, error) {
	out := db.Workflow{
		DisplayName:         w.DisplayName,
		Description:         w.Description,
		Category:            db.WorkflowCategory(w.Category),
		IsEnabled:           w.IsEnabled,
		IsSchedulingEnabled: w.IsSchedulingEnabled,
		Version:             w.Version,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	for _, f := range []struct {
		name string
		in   *string
		out  **time.Time
	}{
		{"createdDateTime", w.CreatedDateTime, &out.CreatedDateTime},
		{"lastModifiedDateTime", w.LastModifiedDateTime, &out.LastModifiedDateTime},
		{"deletedDateTime", w.DeletedDateTime, &out.DeletedDateTime},
		{"nextScheduleRunDateTime", w.NextScheduleRunDateTime, &out.NextScheduleRunDateTime},
	} {
		if *f.out, err = parseTime(f.name, f.in); err != nil {
			return out, err
		}
	}
	return out, nil
}

// model converts a task of the workflow whose id comes from the URL path: Graph's task JSON
// does not name its workflow.
func (w *wireTask) model(workflowID string) (db.Task, error) {
	out := db.Task{
		WorkflowID:        workflowID,
		Arguments:         make(db.KeyValuePairs, 0, len(w.Arguments)),
		Category:          db.ParseTaskCategories(w.Category),
		ContinueOnError:   w.ContinueOnError,
		Description:       w.Description,
		DisplayName:       w.DisplayName,
		ExecutionSequence: w.ExecutionSequence,
		IsEnabled:         w.IsEnabled,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	if out.TaskDefinitionID, err = graphID("taskDefinitionId", w.TaskDefinitionID); err != nil {
		return out, err
	}
	for _, a := range w.Arguments {
		if a != nil {
			out.Arguments = append(out.Arguments, &db.KeyValuePair{Name: a.Name, Value: a.Value})
		}
	}
	return out, nil
}

func (w *wireRun) model(workflowID string) (db.Run, error) {
	out := db.Run{
		WorkflowID:                 workflowID,
		ProcessingStatus:           db.ProcessingStatus(w.ProcessingStatus),
		WorkflowExecutionType:      db.ExecutionType(w.WorkflowExecutionType),
		TotalUsersCount:            w.TotalUsersCount,
		SuccessfulUsersCount:       w.SuccessfulUsersCount,
		FailedUsersCount:           w.FailedUsersCount,
		TotalTasksCount:            w.TotalTasksCount,
		FailedTasksCount:           w.FailedTasksCount,
		TotalUnprocessedTasksCount: w.TotalUnprocessedTasksCount,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	if out.ScheduledDateTime, err = requiredTime("scheduledDateTime", w.ScheduledDateTime); err != nil {
		return out, err
	}
	if out.StartedDateTime, err = parseTime("startedDateTime", w.StartedDateTime); err != nil {
		return out, err
	}
	if out.CompletedDateTime, err = parseTime("completedDateTime", w.CompletedDateTime); err != nil {
		return out, err
	}
	if out.LastUpdatedDateTime, err = parseTime("lastUpdatedDateTime", w.LastUpdatedDateTime); err != nil {
		return out, err
	}
	return out, nil
}

// model converts a report listed under workflowID. The report names its task only through the
// expanded task (or, failing that, its task definition through the expanded taskDefinition).
func (w *wireTaskReport) model(workflowID string) (db.TaskReport, error) {
	out := db.TaskReport{
		WorkflowID:            workflowID,
		ProcessingStatus:      db.ProcessingStatus(w.ProcessingStatus),
		SuccessfulUsersCount:  w.SuccessfulUsersCount,
		FailedUsersCount:      w.FailedUsersCount,
		UnprocessedUsersCount: w.UnprocessedUsersCount,
		TotalUsersCount:       w.TotalUsersCount,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	if out.RunID, err = graphID("runId", w.RunID); err != nil {
		return out, err
	}
	if w.Task == nil {
		return out, errors.New("task is missing (list task reports with $expand=task,taskDefinition)")
	}
	if out.TaskID, err = graphID("task.id", w.Task.ID); err != nil {
		return out, err
	}
	defID := w.Task.TaskDefinitionID
	if w.TaskDefinition != nil && strings.TrimSpace(w.TaskDefinition.ID) != "" {
		defID = w.TaskDefinition.ID
	}
	if out.TaskDefinitionID, err = graphID("taskDefinition.id", defID); err != nil {
		return out, err
	}
	if out.StartedDateTime, err = parseTime("startedDateTime", w.StartedDateTime); err != nil {
		return out, err
	}
	if out.CompletedDateTime, err = parseTime("completedDateTime", w.CompletedDateTime); err != nil {
		return out, err
	}
	if out.LastUpdatedDateTime, err = requiredTime("lastUpdatedDateTime", w.LastUpdatedDateTime); err != nil {
		return out, err
	}
	return out, nil
}

// reportRef is what a result inherits from the report it is listed under.
type reportRef struct {
	pathID     string // the id as Graph wrote it, for the URL path
	id         string
	workflowID string
	runID      string
	taskID     string
}

// model converts a result listed under a report: its workflow, run and report come from there,
// and so does its task when Graph left the inline task out.
func (w *wireTaskProcessingResult) model(parent reportRef) (db.TaskProcessingResult, error) {
	out := db.TaskProcessingResult{
		WorkflowID:       parent.workflowID,
		RunID:            parent.runID,
		TaskReportID:     parent.id,
		TaskID:           parent.taskID,
		ProcessingStatus: db.ProcessingStatus(w.ProcessingStatus),
		FailureReason:    w.FailureReason,
		ProcessingInfo:   w.ProcessingInfo,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	if w.Task != nil {
		if out.TaskID, err = graphID("task.id", w.Task.ID); err != nil {
			return out, err
		}
	}
	if out.SubjectID, err = subjectID(w.Subject); err != nil {
		return out, err
	}
	if out.CreatedDateTime, err = requiredTime("createdDateTime", w.CreatedDateTime); err != nil {
		return out, err
	}
	if out.StartedDateTime, err = parseTime("startedDateTime", w.StartedDateTime); err != nil {
		return out, err
	}
	if out.CompletedDateTime, err = parseTime("completedDateTime", w.CompletedDateTime); err != nil {
		return out, err
	}
	return out, nil
}

// model converts a version listed under workflowID; Graph keys it by its number there.
func (w *wireWorkflowVersion) model(workflowID string) (db.WorkflowVersion, error) {
	out := db.WorkflowVersion{
		ID:                  db.VersionID(workflowID, w.VersionNumber),
		WorkflowID:          workflowID,
		VersionNumber:       w.VersionNumber,
		DisplayName:         w.DisplayName,
		Description:         w.Description,
		Category:            db.WorkflowCategory(w.Category),
		IsEnabled:           w.IsEnabled,
		IsSchedulingEnabled: w.IsSchedulingEnabled,
	}
	if w.VersionNumber < 1 {
		return out, fmt.Errorf("versionNumber %d: versions start at 1", w.VersionNumber)
	}
	var err error
	if out.CreatedDateTime, err = parseTime("createdDateTime", w.CreatedDateTime); err != nil {
		return out, err
	}
	if out.LastModifiedDateTime, err = parseTime("lastModifiedDateTime", w.LastModifiedDateTime); err != nil {
		return out, err
	}
	return out, nil
}

// model converts a user processing result listed under a run: Graph's JSON names neither the
// workflow nor the run, the URL path does.
func (w *wireUserProcessingResult) model(workflowID, runID string) (db.UserProcessingResult, error) {
	out := db.UserProcessingResult{
		WorkflowID:                 workflowID,
		RunID:                      runID,
		ProcessingStatus:           db.ProcessingStatus(w.ProcessingStatus),
		WorkflowExecutionType:      db.ExecutionType(w.WorkflowExecutionType),
		WorkflowVersion:            w.WorkflowVersion,
		TotalTasksCount:            w.TotalTasksCount,
		FailedTasksCount:           w.FailedTasksCount,
		TotalUnprocessedTasksCount: w.TotalUnprocessedTasksCount,
	}
	var err error
	if out.ID, err = graphID("id", w.ID); err != nil {
		return out, err
	}
	if out.SubjectID, err = subjectID(w.Subject); err != nil {
		return out, err
	}
	if out.ScheduledDateTime, err = requiredTime("scheduledDateTime", w.ScheduledDateTime); err != nil {
		return out, err
	}
	if out.StartedDateTime, err = parseTime("startedDateTime", w.StartedDateTime); err != nil {
		return out, err
	}
	if out.CompletedDateTime, err = parseTime("completedDateTime", w.CompletedDateTime); err != nil {
		return out, err
	}
	return out, nil
}

func (w *wireUser) model() (db.User, error) {
	id, err := graphID("id", w.ID)
	return db.User{ID: id, DisplayName: w.DisplayName, UserPrincipalName: w.UserPrincipalName, Mail: w.Mail}, err
}

// subjectID is the id of the user a result names; a result without one is refused.
func subjectID(subject *wireRef) (string, error) {
	id := ""
	if subject != nil {
		id = subject.ID
	}
	return graphID("subject.id", id)
}
