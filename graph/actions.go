package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"lcw-gateway/actions"
	"lcw-gateway/db"
	"lcw-gateway/graph/model"
)

// The mutation resolvers' helpers: GraphQL's enums to Graph's scopes, and the answer that keeps
// both the action and its failure.

// outcomes are the audit row's outcomes as GraphQL names them.
var outcomes = map[string]model.ActionOutcome{
	"dryRun": model.ActionOutcomeDryRun, "succeeded": model.ActionOutcomeSucceeded, "partial": model.ActionOutcomePartial,
	"failed": model.ActionOutcomeFailed, "refused": model.ActionOutcomeRefused,
}

func userScope(s *model.ActionUserScope) string {
	if s != nil && *s == model.ActionUserScopeAll {
		return actions.AllUsers
	}
	return actions.FailedUsers
}

func taskScope(s *model.ActionTaskScope) string {
	if s != nil && *s == model.ActionTaskScopeAll {
		return actions.AllTasks
	}
	return actions.FailedTasks
}

func isTrue(b *bool) bool { return b != nil && *b }

// acted answers a mutation: an action that Graph refused in part or whole is still the field's
// value, with the failure beside it in errors, so neither hides the other.
func acted(ctx context.Context) func(*db.Action, error) (*db.Action, error) {
	return func(a *db.Action, err error) (*db.Action, error) {
		if a != nil && err != nil {
			graphql.AddError(ctx, err)
			return a, nil
		}
		return a, err
	}
}
