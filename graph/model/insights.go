package model

import (
	"time"

	"lcw-gateway/db"
)

// Insights is Query.insights: the window its fields compute over.
type Insights struct {
	StartDateTime time.Time
	EndDateTime   time.Time
}

// TopWorkflowsInsightsSummary is Graph's topWorkflowsInsightsSummary: one workflow's figures.
type TopWorkflowsInsightsSummary struct {
	WorkflowID          string
	WorkflowDisplayName string
	WorkflowCategory    db.WorkflowCategory
	WorkflowVersion     int
	TotalRuns           int
	SuccessfulRuns      int
	FailedRuns          int
	TotalUsers          int
	SuccessfulUsers     int
	FailedUsers         int
}

// TopTasksInsightsSummary is Graph's topTasksInsightsSummary: one task definition's figures.
type TopTasksInsightsSummary struct {
	TaskDefinitionID          string
	TaskDefinitionDisplayName string
	TotalTasks                int
	SuccessfulTasks           int
	FailedTasks               int
	TotalUsers                int
	SuccessfulUsers           int
	FailedUsers               int
}
