package graph

import (
	"cmp"
	"context"
	"slices"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/graph/model"
)

// Graph's insights shapes, made from the store's grouped insights: the store counts, these pick
// Graph's property names and order.

// maxTop bounds the top lists, as a page size is bounded.
const maxTop = db.MaxPageSize

func insightsByCategory(ctx context.Context, s *db.Store, in *model.Insights) (*model.WorkflowsInsightsByCategory, error) {
	groups, err := s.InsightsGroups(ctx, in.StartDateTime, in.EndDateTime, db.InsightsByCategory)
	if err != nil {
		return nil, err
	}
	out := &model.WorkflowsInsightsByCategory{}
	for _, g := range groups {
		switch db.WorkflowCategory(g.Key) {
		case db.WorkflowJoiner:
			out.TotalJoinerRuns, out.SuccessfulJoinerRuns, out.FailedJoinerRuns = g.TotalRuns, g.SuccessfulRuns, g.FailedRuns
		case db.WorkflowMover:
			out.TotalMoverRuns, out.SuccessfulMoverRuns, out.FailedMoverRuns = g.TotalRuns, g.SuccessfulRuns, g.FailedRuns
		case db.WorkflowLeaver:
			out.TotalLeaverRuns, out.SuccessfulLeaverRuns, out.FailedLeaverRuns = g.TotalRuns, g.SuccessfulRuns, g.FailedRuns
		}
	}
	return out, nil
}

// topCount checks a top list's size.
func topCount(first *int) (int, error) {
	n := 10
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxTop {
		return 0, &db.InputError{Argument: "first", Message: "first must be between 0 and 500"}
	}
	return n, nil
}

// topWorkflows is Graph's topWorkflowsProcessedSummary: the workflows with the most runs, then
// the most users, then by id.
func topWorkflows(ctx context.Context, s *db.Store, in *model.Insights, first *int) ([]*model.TopWorkflowsInsightsSummary, error) {
	n, err := topCount(first)
	if err != nil {
		return nil, err
	}
	groups, err := s.InsightsGroups(ctx, in.StartDateTime, in.EndDateTime, db.InsightsByWorkflow)
	if err != nil {
		return nil, err
	}
	groups, ids := top(groups, n, func(g *db.InsightsSummary) int { return g.TotalRuns })
	found, err := loaders.For(ctx).Workflow.Fill(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]*db.Workflow{}
	for _, w := range found {
		byID[w.ID] = w
	}
	out := make([]*model.TopWorkflowsInsightsSummary, len(groups))
	for i, g := range groups {
		t := &model.TopWorkflowsInsightsSummary{WorkflowID: g.Key, TotalRuns: g.TotalRuns, SuccessfulRuns: g.SuccessfulRuns,
			FailedRuns: g.FailedRuns, TotalUsers: g.TotalUsers, SuccessfulUsers: g.SuccessfulUsers, FailedUsers: g.FailedUsers}
		if w := byID[g.Key]; w != nil {
			t.WorkflowDisplayName, t.WorkflowCategory, t.WorkflowVersion = w.DisplayName, w.Category, w.Version
		}
		out[i] = t
	}
	return out, nil
}

// topTasks is Graph's topTasksProcessedSummary: the task definitions with the most task
// executions, then the most users, then by id.
func topTasks(ctx context.Context, s *db.Store, in *model.Insights, first *int) ([]*model.TopTasksInsightsSummary, error) {
	n, err := topCount(first)
	if err != nil {
		return nil, err
	}
	groups, err := s.InsightsGroups(ctx, in.StartDateTime, in.EndDateTime, db.InsightsByTaskDefinition)
	if err != nil {
		return nil, err
	}
	groups, ids := top(groups, n, func(g *db.InsightsSummary) int { return g.TotalTasks })
	found, err := loaders.For(ctx).TaskDefinition.Fill(ctx, ids)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, d := range found {
		names[d.ID] = d.DisplayName
	}
	out := make([]*model.TopTasksInsightsSummary, len(groups))
	for i, g := range groups {
		out[i] = &model.TopTasksInsightsSummary{TaskDefinitionID: g.Key, TaskDefinitionDisplayName: names[g.Key],
			TotalTasks: g.TotalTasks, SuccessfulTasks: g.SuccessfulTasks, FailedTasks: g.FailedTasks,
			TotalUsers: g.TotalUsers, SuccessfulUsers: g.SuccessfulUsers, FailedUsers: g.FailedUsers}
	}
	return out, nil
}

// top keeps the n groups with the most of by, then the most users, then by key, and their keys.
func top(groups []*db.InsightsSummary, n int, by func(*db.InsightsSummary) int) ([]*db.InsightsSummary, []string) {
	slices.SortFunc(groups, func(a, b *db.InsightsSummary) int {
		return cmp.Or(cmp.Compare(by(b), by(a)), cmp.Compare(b.TotalUsers, a.TotalUsers), cmp.Compare(a.Key, b.Key))
	})
	groups = groups[:min(n, len(groups))]
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.Key
	}
	return groups, ids
}
