package db

import (
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"time"
)

// One struct per entity. Each is both the GORM model and, through gqlgen.yml, the GraphQL model,
// so there is no second copy of an entity to keep in sync. Every row belongs to a tenant; ids are
// Graph's GUIDs in lower case, unique within a tenant.

type TaskDefinition struct {
	TenantID        string         `gorm:"primaryKey" json:"-"`
	ID              string         `gorm:"primaryKey"`
	Category        TaskCategories `gorm:"type:text;not null"`
	ContinueOnError *bool
	Description     *string
	DisplayName     string     `gorm:"not null"`
	Parameters      Parameters `gorm:"type:text;not null"`
	Version         int        `gorm:"not null"`
}

type Workflow struct {
	TenantID                string `gorm:"primaryKey" json:"-"`
	ID                      string `gorm:"primaryKey"`
	DisplayName             string `gorm:"not null"`
	Description             *string
	Category                WorkflowCategory `gorm:"not null"`
	IsEnabled               bool             `gorm:"not null"`
	IsSchedulingEnabled     bool             `gorm:"not null"`
	Version                 int              `gorm:"not null"`
	CreatedDateTime         *time.Time
	LastModifiedDateTime    *time.Time
	DeletedDateTime         *time.Time
	NextScheduleRunDateTime *time.Time
	// MissingSinceDateTime is when a full sync pass first found the workflow gone from Graph.
	MissingSinceDateTime *time.Time
}

// WorkflowVersion is one saved version of a workflow; ID is "{workflowId}/{versionNumber}"
// (VersionID), as Graph keys a version by its number under the workflow.
type WorkflowVersion struct {
	TenantID             string `gorm:"primaryKey" json:"-"`
	ID                   string `gorm:"primaryKey"`
	WorkflowID           string `gorm:"not null"`
	VersionNumber        int    `gorm:"not null"`
	DisplayName          string `gorm:"not null"`
	Description          *string
	Category             WorkflowCategory `gorm:"not null"`
	IsEnabled            bool             `gorm:"not null"`
	IsSchedulingEnabled  bool             `gorm:"not null"`
	CreatedDateTime      *time.Time
	LastModifiedDateTime *time.Time
}

// VersionID is the id of a workflow's version.
func VersionID(workflowID string, versionNumber int) string {
	return workflowID + "/" + strconv.Itoa(versionNumber)
}

type Task struct {
	TenantID          string         `gorm:"primaryKey" json:"-"`
	ID                string         `gorm:"primaryKey"`
	WorkflowID        string         `gorm:"not null"`
	Arguments         KeyValuePairs  `gorm:"type:text;not null"`
	Category          TaskCategories `gorm:"type:text;not null"`
	ContinueOnError   bool           `gorm:"not null"`
	Description       *string
	DisplayName       string `gorm:"not null"`
	ExecutionSequence int    `gorm:"not null"`
	IsEnabled         bool   `gorm:"not null"`
	TaskDefinitionID  string `gorm:"not null"`
}

type Run struct {
	TenantID                   string           `gorm:"primaryKey" json:"-"`
	ID                         string           `gorm:"primaryKey"`
	WorkflowID                 string           `gorm:"not null"`
	ProcessingStatus           ProcessingStatus `gorm:"not null"`
	WorkflowExecutionType      ExecutionType    `gorm:"not null"`
	ScheduledDateTime          time.Time        `gorm:"not null"`
	StartedDateTime            *time.Time
	CompletedDateTime          *time.Time
	LastUpdatedDateTime        *time.Time
	TotalUsersCount            int `gorm:"not null"`
	SuccessfulUsersCount       int `gorm:"not null"`
	FailedUsersCount           int `gorm:"not null"`
	TotalTasksCount            int `gorm:"not null"`
	FailedTasksCount           int `gorm:"not null"`
	TotalUnprocessedTasksCount int `gorm:"not null"`
	// MissingSinceDateTime is when a full sync pass first found the run gone from Graph.
	MissingSinceDateTime *time.Time
}

type TaskReport struct {
	TenantID              string           `gorm:"primaryKey" json:"-"`
	ID                    string           `gorm:"primaryKey"`
	WorkflowID            string           `gorm:"not null"`
	RunID                 string           `gorm:"not null"`
	TaskID                string           `gorm:"not null"`
	TaskDefinitionID      string           `gorm:"not null"`
	ProcessingStatus      ProcessingStatus `gorm:"not null"`
	SuccessfulUsersCount  int              `gorm:"not null"`
	FailedUsersCount      int              `gorm:"not null"`
	UnprocessedUsersCount int              `gorm:"not null"`
	TotalUsersCount       int              `gorm:"not null"`
	StartedDateTime       *time.Time
	CompletedDateTime     *time.Time
	LastUpdatedDateTime   time.Time `gorm:"not null"`
}

type TaskProcessingResult struct {
	TenantID          string    `gorm:"primaryKey" json:"-"`
	ID                string    `gorm:"primaryKey"`
	WorkflowID        string    `gorm:"not null"`
	RunID             string    `gorm:"not null"`
	TaskReportID      string    `gorm:"not null"`
	TaskID            string    `gorm:"not null"`
	SubjectID         string    `gorm:"not null"`
	CreatedDateTime   time.Time `gorm:"not null"`
	StartedDateTime   *time.Time
	CompletedDateTime *time.Time
	ProcessingStatus  ProcessingStatus `gorm:"not null"`
	FailureReason     *string
	ProcessingInfo    *string
}

// UserProcessingResult is one workflow execution for one user: one per user per run, its counters
// those of the user's task processing results in the run.
type UserProcessingResult struct {
	TenantID                   string           `gorm:"primaryKey" json:"-"`
	ID                         string           `gorm:"primaryKey"`
	WorkflowID                 string           `gorm:"not null"`
	RunID                      string           `gorm:"not null"`
	SubjectID                  string           `gorm:"not null"`
	ProcessingStatus           ProcessingStatus `gorm:"not null"`
	WorkflowExecutionType      ExecutionType    `gorm:"not null"`
	WorkflowVersion            int              `gorm:"not null"`
	ScheduledDateTime          time.Time        `gorm:"not null"`
	StartedDateTime            *time.Time
	CompletedDateTime          *time.Time
	TotalTasksCount            int `gorm:"not null"`
	FailedTasksCount           int `gorm:"not null"`
	TotalUnprocessedTasksCount int `gorm:"not null"`
}

type User struct {
	TenantID          string `gorm:"primaryKey" json:"-"`
	ID                string `gorm:"primaryKey"`
	DisplayName       *string
	UserPrincipalName *string
	Mail              *string
}

// IsNode marks the entities that implement the GraphQL Node interface.
func (TaskDefinition) IsNode()       {}
func (Workflow) IsNode()             {}
func (Task) IsNode()                 {}
func (Run) IsNode()                  {}
func (TaskReport) IsNode()           {}
func (TaskProcessingResult) IsNode() {}
func (User) IsNode()                 {}
func (UserProcessingResult) IsNode() {}

// KeyValuePair is Graph's keyValuePair (task arguments).
type KeyValuePair struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// Parameter is Graph's parameter of a task definition.
type Parameter struct {
	Name      string    `json:"name"`
	Values    []string  `json:"values"`
	ValueType ValueType `json:"valueType"`
}

// KeyValuePairs and Parameters are stored as JSON text: they are read whole and never queried.
type KeyValuePairs []*KeyValuePair
type Parameters []*Parameter

func (k KeyValuePairs) Value() (driver.Value, error) { return jsonValue(k) }
func (k *KeyValuePairs) Scan(src any) error          { return jsonScan(src, k) }
func (p Parameters) Value() (driver.Value, error)    { return jsonValue(p) }
func (p *Parameters) Scan(src any) error             { return jsonScan(src, p) }

func jsonValue[T any](v []T) (driver.Value, error) {
	if v == nil {
		v = []T{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func jsonScan(src any, dst any) error {
	s, err := scanString(src)
	if err != nil || s == "" {
		return err
	}
	return json.Unmarshal([]byte(s), dst)
}
