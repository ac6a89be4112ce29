package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"lcw-gateway/db"
	"lcw-gateway/graph/enums"
	"lcw-gateway/graph/model"
	"lcw-gateway/graph/scalars"
)

// The compiled read path's field tables (fast.go): per object type, the writer of each field it
// knows. A field missing here is not an error: the request runs through gqlgen. To serve a new
// field fast, add its case, calling the same resolver as the generated code does
// (generated.go's _Type_field), and a query that selects it to fast_test.go's corpus.

// The connections (functions, not variables: the tables refer to each other).
func reportConnection() connectionType[db.TaskReport] {
	return connectionType[db.TaskReport]{item: taskReportImplementors, table: taskReportFields}
}

func resultConnection() connectionType[db.TaskProcessingResult] {
	return connectionType[db.TaskProcessingResult]{item: taskProcessingResultImplementors, table: resultFields}
}

func workflowConnection() connectionType[db.Workflow] {
	return connectionType[db.Workflow]{item: workflowImplementors, table: workflowFields}
}

func runConnection() connectionType[db.Run] {
	return connectionType[db.Run]{item: runImplementors, table: runFields}
}

func defConnection() connectionType[db.TaskDefinition] {
	return connectionType[db.TaskDefinition]{item: taskDefinitionImplementors, table: taskDefinitionFields}
}

func userResultConnection() connectionType[db.UserProcessingResult] {
	return connectionType[db.UserProcessingResult]{item: userProcessingResultImplementors, table: userResultFields}
}

func queryFields(c *fastCompiler, f graphql.CollectedField) writer[fastQuery] {
	const q = "Query"
	switch f.Name {
	case "workflows":
		return connectionField(c, q, f, workflowConnection(), (*executionContext).field_Query_workflows_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Connection[db.Workflow], error) {
				return r.Query().Workflows(ctx, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.WorkflowWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"),
					mustArg[*bool](a, "includeDeleted"))
			})
	case "workflow":
		return byID(c, f, workflowImplementors, workflowFields, (*executionContext).field_Query_workflow_args,
			func(r *Resolver, ctx context.Context, id string) (*db.Workflow, error) {
				return r.Query().Workflow(ctx, id)
			})
	case "run":
		return byID(c, f, runImplementors, runFields, (*executionContext).field_Query_run_args,
			func(r *Resolver, ctx context.Context, id string) (*db.Run, error) { return r.Query().Run(ctx, id) })
	case "taskReports":
		return connectionField(c, q, f, reportConnection(), (*executionContext).field_Query_taskReports_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Connection[db.TaskReport], error) {
				return r.Query().TaskReports(ctx, mustArg[*string](a, "workflowId"), mustArg[*string](a, "runId"),
					mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"), mustArg[*string](a, "before"),
					mustArg[*db.TaskReportWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "taskReport":
		return byID(c, f, taskReportImplementors, taskReportFields, (*executionContext).field_Query_taskReport_args,
			func(r *Resolver, ctx context.Context, id string) (*db.TaskReport, error) {
				return r.Query().TaskReport(ctx, id)
			})
	case "taskProcessingResults":
		return connectionField(c, q, f, resultConnection(), (*executionContext).field_Query_taskProcessingResults_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Connection[db.TaskProcessingResult], error) {
				return r.Query().TaskProcessingResults(ctx, mustArg[*string](a, "workflowId"), mustArg[*string](a, "runId"),
					mustArg[*string](a, "taskReportId"), mustArg[*db.TaskProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"),
					mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"), mustArg[*string](a, "before"))
			})
	case "taskProcessingResult":
		return byID(c, f, taskProcessingResultImplementors, resultFields, (*executionContext).field_Query_taskProcessingResult_args,
			func(r *Resolver, ctx context.Context, id string) (*db.TaskProcessingResult, error) {
				return r.Query().TaskProcessingResult(ctx, id)
			})
	case "taskDefinitions":
		return connectionField(c, q, f, defConnection(), (*executionContext).field_Query_taskDefinitions_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Connection[db.TaskDefinition], error) {
				return r.Query().TaskDefinitions(ctx, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.TaskDefinitionWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "taskDefinition":
		return byID(c, f, taskDefinitionImplementors, taskDefinitionFields, (*executionContext).field_Query_taskDefinition_args,
			func(r *Resolver, ctx context.Context, id string) (*db.TaskDefinition, error) {
				return r.Query().TaskDefinition(ctx, id)
			})
	case "taskReportSummary":
		return objectField(c, q, f, taskReportSummaryImplementors, summaryFields, false, (*executionContext).field_Query_taskReportSummary_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*db.TaskReportSummary, error) {
				return r.Query().TaskReportSummary(ctx, mustArg[string](a, "workflowId"),
					mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"))
			})
	case "userProcessingResult":
		return byID(c, f, userProcessingResultImplementors, userResultFields, (*executionContext).field_Query_userProcessingResult_args,
			func(r *Resolver, ctx context.Context, id string) (*db.UserProcessingResult, error) {
				return r.Query().UserProcessingResult(ctx, id)
			})
	case "deletedWorkflows":
		return connectionField(c, q, f, workflowConnection(), (*executionContext).field_Query_deletedWorkflows_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Connection[db.Workflow], error) {
				return r.Query().DeletedWorkflows(ctx, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.WorkflowWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "insights":
		return objectField(c, q, f, insightsImplementors, insightsFields, true, (*executionContext).field_Query_insights_args,
			func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*model.Insights, error) {
				return r.Query().Insights(ctx, mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"))
			})
	case "node":
		return nodeField(c, f)
	}
	return nil
}

// byID is a nullable root field that reads one object by id.
func byID[T any](c *fastCompiler, f graphql.CollectedField, implementors []string, table fieldTable[T], parse argsParser,
	get func(r *Resolver, ctx context.Context, id string) (*T, error)) writer[fastQuery] {
	return objectField(c, "Query", f, implementors, table, false, parse,
		func(r *Resolver, ctx context.Context, _ *fastQuery, a map[string]any) (*T, error) {
			return get(r, ctx, mustArg[string](a, "id"))
		})
}

// nodeField is node(id): the selection compiled for each type that implements Node; a type
// whose selection has a field without a writer gives up only when node(id) returns one.
func nodeField(c *fastCompiler, f graphql.CollectedField) writer[fastQuery] {
	type plans struct {
		workflow   fastObject[db.Workflow]
		run        fastObject[db.Run]
		task       fastObject[db.Task]
		definition fastObject[db.TaskDefinition]
		report     fastObject[db.TaskReport]
		result     fastObject[db.TaskProcessingResult]
		user       fastObject[db.User]
		userResult fastObject[db.UserProcessingResult]
	}
	var p plans
	p.workflow, _ = compileObject(c, f.Selections, workflowImplementors, workflowFields)
	p.run, _ = compileObject(c, f.Selections, runImplementors, runFields)
	p.task, _ = compileObject(c, f.Selections, taskImplementors, taskFields)
	p.definition, _ = compileObject(c, f.Selections, taskDefinitionImplementors, taskDefinitionFields)
	p.report, _ = compileObject(c, f.Selections, taskReportImplementors, taskReportFields)
	p.result, _ = compileObject(c, f.Selections, taskProcessingResultImplementors, resultFields)
	p.user, _ = compileObject(c, f.Selections, userImplementors, userFields)
	p.userResult, _ = compileObject(c, f.Selections, userProcessingResultImplementors, userResultFields)
	slot := c.slot()
	return func(e *fastExec, _ *fastQuery) bool {
		ctx, args, ok := e.resolverContext(slot, "Query", &f, (*executionContext).field_Query_node_args)
		if !ok {
			return false
		}
		n, err := e.r.Query().Node(ctx, mustArg[string](args, "id"))
		if err != nil {
			return false
		}
		switch v := n.(type) {
		case nil:
			e.buf = append(e.buf, "null"...)
			return true
		case *db.Workflow:
			return p.workflow != nil && p.workflow.write(e, v)
		case *db.Run:
			return p.run != nil && p.run.write(e, v)
		case *db.Task:
			return p.task != nil && p.task.write(e, v)
		case *db.TaskDefinition:
			return p.definition != nil && p.definition.write(e, v)
		case *db.TaskReport:
			return p.report != nil && p.report.write(e, v)
		case *db.TaskProcessingResult:
			return p.result != nil && p.result.write(e, v)
		case *db.User:
			return p.user != nil && p.user.write(e, v)
		case *db.UserProcessingResult:
			return p.userResult != nil && p.userResult.write(e, v)
		}
		return false
	}
}

func workflowFields(c *fastCompiler, f graphql.CollectedField) writer[db.Workflow] {
	const o = "Workflow"
	switch f.Name {
	case "id":
		return stringField(func(w *db.Workflow) string { return w.ID })
	case "displayName":
		return stringField(func(w *db.Workflow) string { return w.DisplayName })
	case "description":
		return optStringField(func(w *db.Workflow) *string { return w.Description })
	case "category":
		return enumField(func(w *db.Workflow) db.WorkflowCategory { return w.Category }, enums.AppendWorkflowCategory)
	case "isEnabled":
		return boolField(func(w *db.Workflow) bool { return w.IsEnabled })
	case "isSchedulingEnabled":
		return boolField(func(w *db.Workflow) bool { return w.IsSchedulingEnabled })
	case "version":
		return intField(func(w *db.Workflow) int { return w.Version })
	case "createdDateTime":
		return optTimeField(func(w *db.Workflow) *time.Time { return w.CreatedDateTime })
	case "lastModifiedDateTime":
		return optTimeField(func(w *db.Workflow) *time.Time { return w.LastModifiedDateTime })
	case "deletedDateTime":
		return optTimeField(func(w *db.Workflow) *time.Time { return w.DeletedDateTime })
	case "nextScheduleRunDateTime":
		return optTimeField(func(w *db.Workflow) *time.Time { return w.NextScheduleRunDateTime })
	case "missingSinceDateTime":
		return optTimeField(func(w *db.Workflow) *time.Time { return w.MissingSinceDateTime })
	case "lastSyncedDateTime":
		return resolvedOptional(c, o, f, scalars.AppendDateTime,
			func(r *Resolver, ctx context.Context, w *db.Workflow) (*time.Time, error) {
				return r.Workflow().LastSyncedDateTime(ctx, w)
			})
	case "versions":
		return listField(c, o, f, workflowVersionImplementors, versionFields, nil,
			func(r *Resolver, ctx context.Context, w *db.Workflow, _ map[string]any) ([]*db.WorkflowVersion, error) {
				return r.Workflow().Versions(ctx, w)
			})
	case "userProcessingResults":
		return connectionField(c, o, f, userResultConnection(), (*executionContext).field_Workflow_userProcessingResults_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*model.Connection[db.UserProcessingResult], error) {
				return r.Workflow().UserProcessingResults(ctx, w, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.UserProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "tasks":
		return listField(c, o, f, taskImplementors, taskFields, nil, func(r *Resolver, ctx context.Context, w *db.Workflow, _ map[string]any) ([]*db.Task, error) {
			return r.Workflow().Tasks(ctx, w)
		})
	case "runs":
		return connectionField(c, o, f, runConnection(), (*executionContext).field_Workflow_runs_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*model.Connection[db.Run], error) {
				return r.Workflow().Runs(ctx, w, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.RunWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "taskReports":
		return connectionField(c, o, f, reportConnection(), (*executionContext).field_Workflow_taskReports_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*model.Connection[db.TaskReport], error) {
				return r.Workflow().TaskReports(ctx, w, mustArg[*string](a, "runId"), mustArg[*int](a, "first"), mustArg[*string](a, "after"),
					mustArg[*int](a, "last"), mustArg[*string](a, "before"), mustArg[*db.TaskReportWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "taskReportSummary":
		return objectField(c, o, f, taskReportSummaryImplementors, summaryFields, true, (*executionContext).field_Workflow_taskReportSummary_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*db.TaskReportSummary, error) {
				return r.Workflow().TaskReportSummary(ctx, w, mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"))
			})
	case "runSummary":
		return objectField(c, o, f, runSummaryImplementors, runSummaryFields, true, (*executionContext).field_Workflow_runSummary_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*db.RunSummary, error) {
				return r.Workflow().RunSummary(ctx, w, mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"))
			})
	case "userSummary":
		return objectField(c, o, f, userSummaryImplementors, userSummaryFields, true, (*executionContext).field_Workflow_userSummary_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) (*db.UserSummary, error) {
				return r.Workflow().UserSummary(ctx, w, mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"))
			})
	case "taskReportStats":
		return listField(c, o, f, taskReportStatsImplementors, statsFields, (*executionContext).field_Workflow_taskReportStats_args,
			func(r *Resolver, ctx context.Context, w *db.Workflow, a map[string]any) ([]*db.TaskReportStats, error) {
				return r.Workflow().TaskReportStats(ctx, w, mustArg[time.Time](a, "startDateTime"), mustArg[time.Time](a, "endDateTime"),
					mustArg[db.GroupBy](a, "groupBy"))
			})
	}
	return nil
}

func runFields(c *fastCompiler, f graphql.CollectedField) writer[db.Run] {
	const o = "Run"
	switch f.Name {
	case "id":
		return stringField(func(r *db.Run) string { return r.ID })
	case "processingStatus":
		return enumField(func(r *db.Run) db.ProcessingStatus { return r.ProcessingStatus }, enums.AppendProcessingStatus)
	case "workflowExecutionType":
		return enumField(func(r *db.Run) db.ExecutionType { return r.WorkflowExecutionType }, enums.AppendExecutionType)
	case "scheduledDateTime":
		return timeField(func(r *db.Run) time.Time { return r.ScheduledDateTime })
	case "startedDateTime":
		return optTimeField(func(r *db.Run) *time.Time { return r.StartedDateTime })
	case "completedDateTime":
		return optTimeField(func(r *db.Run) *time.Time { return r.CompletedDateTime })
	case "lastUpdatedDateTime":
		return optTimeField(func(r *db.Run) *time.Time { return r.LastUpdatedDateTime })
	case "totalUsersCount":
		return intField(func(r *db.Run) int { return r.TotalUsersCount })
	case "successfulUsersCount":
		return intField(func(r *db.Run) int { return r.SuccessfulUsersCount })
	case "failedUsersCount":
		return intField(func(r *db.Run) int { return r.FailedUsersCount })
	case "totalTasksCount":
		return intField(func(r *db.Run) int { return r.TotalTasksCount })
	case "failedTasksCount":
		return intField(func(r *db.Run) int { return r.FailedTasksCount })
	case "totalUnprocessedTasksCount":
		return intField(func(r *db.Run) int { return r.TotalUnprocessedTasksCount })
	case "missingSinceDateTime":
		return optTimeField(func(r *db.Run) *time.Time { return r.MissingSinceDateTime })
	case "userProcessingResults":
		return connectionField(c, o, f, userResultConnection(), (*executionContext).field_Run_userProcessingResults_args,
			func(r *Resolver, ctx context.Context, run *db.Run, a map[string]any) (*model.Connection[db.UserProcessingResult], error) {
				return r.Run().UserProcessingResults(ctx, run, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.UserProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "workflow":
		return objectField(c, o, f, workflowImplementors, workflowFields, true, nil,
			func(r *Resolver, ctx context.Context, run *db.Run, _ map[string]any) (*db.Workflow, error) {
				return r.Run().Workflow(ctx, run)
			})
	case "taskReports":
		return connectionField(c, o, f, reportConnection(), (*executionContext).field_Run_taskReports_args,
			func(r *Resolver, ctx context.Context, run *db.Run, a map[string]any) (*model.Connection[db.TaskReport], error) {
				return r.Run().TaskReports(ctx, run, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.TaskReportWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "taskProcessingResults":
		return connectionField(c, o, f, resultConnection(), (*executionContext).field_Run_taskProcessingResults_args,
			func(r *Resolver, ctx context.Context, run *db.Run, a map[string]any) (*model.Connection[db.TaskProcessingResult], error) {
				return r.Run().TaskProcessingResults(ctx, run, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.TaskProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	}
	return nil
}

func taskFields(c *fastCompiler, f graphql.CollectedField) writer[db.Task] {
	switch f.Name {
	case "id":
		return stringField(func(t *db.Task) string { return t.ID })
	case "category":
		return enumListField(func(t *db.Task) []db.TaskCategory { return t.Category }, enums.AppendTaskCategory)
	case "continueOnError":
		return boolField(func(t *db.Task) bool { return t.ContinueOnError })
	case "description":
		return optStringField(func(t *db.Task) *string { return t.Description })
	case "displayName":
		return stringField(func(t *db.Task) string { return t.DisplayName })
	case "executionSequence":
		return intField(func(t *db.Task) int { return t.ExecutionSequence })
	case "isEnabled":
		return boolField(func(t *db.Task) bool { return t.IsEnabled })
	case "taskDefinitionId":
		return stringField(func(t *db.Task) string { return t.TaskDefinitionID })
	case "arguments":
		return listField(c, "Task", f, keyValuePairImplementors, keyValueFields, nil,
			func(r *Resolver, ctx context.Context, t *db.Task, _ map[string]any) ([]*db.KeyValuePair, error) {
				return r.Task().Arguments(ctx, t)
			})
	case "taskDefinition":
		return objectField(c, "Task", f, taskDefinitionImplementors, taskDefinitionFields, false, nil,
			func(r *Resolver, ctx context.Context, t *db.Task, _ map[string]any) (*db.TaskDefinition, error) {
				return r.Task().TaskDefinition(ctx, t)
			})
	}
	return nil
}

func taskDefinitionFields(c *fastCompiler, f graphql.CollectedField) writer[db.TaskDefinition] {
	switch f.Name {
	case "parameters":
		return listField(c, "TaskDefinition", f, parameterImplementors, parameterFields, nil,
			func(r *Resolver, ctx context.Context, d *db.TaskDefinition, _ map[string]any) ([]*db.Parameter, error) {
				return r.TaskDefinition().Parameters(ctx, d)
			})
	case "id":
		return stringField(func(d *db.TaskDefinition) string { return d.ID })
	case "category":
		return enumListField(func(d *db.TaskDefinition) []db.TaskCategory { return d.Category }, enums.AppendTaskCategory)
	case "continueOnError":
		return optBoolField(func(d *db.TaskDefinition) *bool { return d.ContinueOnError })
	case "description":
		return optStringField(func(d *db.TaskDefinition) *string { return d.Description })
	case "displayName":
		return stringField(func(d *db.TaskDefinition) string { return d.DisplayName })
	case "version":
		return intField(func(d *db.TaskDefinition) int { return d.Version })
	}
	return nil
}

func taskReportFields(c *fastCompiler, f graphql.CollectedField) writer[db.TaskReport] {
	const o = "TaskReport"
	switch f.Name {
	case "id":
		return stringField(func(r *db.TaskReport) string { return r.ID })
	case "runId":
		return stringField(func(r *db.TaskReport) string { return r.RunID })
	case "processingStatus":
		return enumField(func(r *db.TaskReport) db.ProcessingStatus { return r.ProcessingStatus }, enums.AppendProcessingStatus)
	case "successfulUsersCount":
		return intField(func(r *db.TaskReport) int { return r.SuccessfulUsersCount })
	case "failedUsersCount":
		return intField(func(r *db.TaskReport) int { return r.FailedUsersCount })
	case "unprocessedUsersCount":
		return intField(func(r *db.TaskReport) int { return r.UnprocessedUsersCount })
	case "totalUsersCount":
		return intField(func(r *db.TaskReport) int { return r.TotalUsersCount })
	case "startedDateTime":
		return optTimeField(func(r *db.TaskReport) *time.Time { return r.StartedDateTime })
	case "completedDateTime":
		return optTimeField(func(r *db.TaskReport) *time.Time { return r.CompletedDateTime })
	case "lastUpdatedDateTime":
		return timeField(func(r *db.TaskReport) time.Time { return r.LastUpdatedDateTime })
	case "task":
		return objectField(c, o, f, taskImplementors, taskFields, true, nil,
			func(r *Resolver, ctx context.Context, rep *db.TaskReport, _ map[string]any) (*db.Task, error) {
				return r.TaskReport().Task(ctx, rep)
			})
	case "taskDefinition":
		return objectField(c, o, f, taskDefinitionImplementors, taskDefinitionFields, true, nil,
			func(r *Resolver, ctx context.Context, rep *db.TaskReport, _ map[string]any) (*db.TaskDefinition, error) {
				return r.TaskReport().TaskDefinition(ctx, rep)
			})
	case "run":
		return objectField(c, o, f, runImplementors, runFields, true, nil,
			func(r *Resolver, ctx context.Context, rep *db.TaskReport, _ map[string]any) (*db.Run, error) {
				return r.TaskReport().Run(ctx, rep)
			})
	case "workflow":
		return objectField(c, o, f, workflowImplementors, workflowFields, true, nil,
			func(r *Resolver, ctx context.Context, rep *db.TaskReport, _ map[string]any) (*db.Workflow, error) {
				return r.TaskReport().Workflow(ctx, rep)
			})
	case "taskProcessingResults":
		return connectionField(c, o, f, resultConnection(), (*executionContext).field_TaskReport_taskProcessingResults_args,
			func(r *Resolver, ctx context.Context, rep *db.TaskReport, a map[string]any) (*model.Connection[db.TaskProcessingResult], error) {
				return r.TaskReport().TaskProcessingResults(ctx, rep, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.TaskProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	}
	return nil
}

func resultFields(c *fastCompiler, f graphql.CollectedField) writer[db.TaskProcessingResult] {
	const o = "TaskProcessingResult"
	switch f.Name {
	case "id":
		return stringField(func(r *db.TaskProcessingResult) string { return r.ID })
	case "createdDateTime":
		return timeField(func(r *db.TaskProcessingResult) time.Time { return r.CreatedDateTime })
	case "startedDateTime":
		return optTimeField(func(r *db.TaskProcessingResult) *time.Time { return r.StartedDateTime })
	case "completedDateTime":
		return optTimeField(func(r *db.TaskProcessingResult) *time.Time { return r.CompletedDateTime })
	case "processingStatus":
		return enumField(func(r *db.TaskProcessingResult) db.ProcessingStatus { return r.ProcessingStatus }, enums.AppendProcessingStatus)
	case "failureReason":
		return optStringField(func(r *db.TaskProcessingResult) *string { return r.FailureReason })
	case "processingInfo":
		return optStringField(func(r *db.TaskProcessingResult) *string { return r.ProcessingInfo })
	case "subject":
		return objectField(c, o, f, userImplementors, userFields, true, nil,
			func(r *Resolver, ctx context.Context, res *db.TaskProcessingResult, _ map[string]any) (*db.User, error) {
				return r.TaskProcessingResult().Subject(ctx, res)
			})
	case "task":
		return objectField(c, o, f, taskImplementors, taskFields, true, nil,
			func(r *Resolver, ctx context.Context, res *db.TaskProcessingResult, _ map[string]any) (*db.Task, error) {
				return r.TaskProcessingResult().Task(ctx, res)
			})
	case "taskReport":
		return objectField(c, o, f, taskReportImplementors, taskReportFields, true, nil,
			func(r *Resolver, ctx context.Context, res *db.TaskProcessingResult, _ map[string]any) (*db.TaskReport, error) {
				return r.TaskProcessingResult().TaskReport(ctx, res)
			})
	}
	return nil
}

func userFields(c *fastCompiler, f graphql.CollectedField) writer[db.User] {
	switch f.Name {
	case "processingResults":
		return connectionField(c, "User", f, userResultConnection(), (*executionContext).field_User_processingResults_args,
			func(r *Resolver, ctx context.Context, u *db.User, a map[string]any) (*model.Connection[db.UserProcessingResult], error) {
				return r.User().ProcessingResults(ctx, u, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.UserProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	case "id":
		return stringField(func(u *db.User) string { return u.ID })
	case "displayName":
		return optStringField(func(u *db.User) *string { return u.DisplayName })
	case "userPrincipalName":
		return optStringField(func(u *db.User) *string { return u.UserPrincipalName })
	case "mail":
		return optStringField(func(u *db.User) *string { return u.Mail })
	}
	return nil
}

func summaryFields(_ *fastCompiler, f graphql.CollectedField) writer[db.TaskReportSummary] {
	switch f.Name {
	case "successfulTasks":
		return intField(func(s *db.TaskReportSummary) int { return s.SuccessfulTasks })
	case "failedTasks":
		return intField(func(s *db.TaskReportSummary) int { return s.FailedTasks })
	case "unprocessedTasks":
		return intField(func(s *db.TaskReportSummary) int { return s.UnprocessedTasks })
	case "totalTasks":
		return intField(func(s *db.TaskReportSummary) int { return s.TotalTasks })
	}
	return nil
}

func keyValueFields(_ *fastCompiler, f graphql.CollectedField) writer[db.KeyValuePair] {
	switch f.Name {
	case "name":
		return stringField(func(k *db.KeyValuePair) string { return k.Name })
	case "value":
		return optStringField(func(k *db.KeyValuePair) *string { return k.Value })
	}
	return nil
}

func parameterFields(_ *fastCompiler, f graphql.CollectedField) writer[db.Parameter] {
	switch f.Name {
	case "name":
		return stringField(func(p *db.Parameter) string { return p.Name })
	case "values":
		return func(e *fastExec, p *db.Parameter) bool {
			e.buf = append(e.buf, '[')
			for i, v := range p.Values {
				if i > 0 {
					e.buf = append(e.buf, ',')
				}
				e.buf = writeString(e.buf, v)
			}
			e.buf = append(e.buf, ']')
			return true
		}
	case "valueType":
		return enumField(func(p *db.Parameter) db.ValueType { return p.ValueType }, enums.AppendValueType)
	}
	return nil
}

func runSummaryFields(_ *fastCompiler, f graphql.CollectedField) writer[db.RunSummary] {
	switch f.Name {
	case "failedRuns":
		return intField(func(s *db.RunSummary) int { return s.FailedRuns })
	case "failedTasks":
		return intField(func(s *db.RunSummary) int { return s.FailedTasks })
	case "successfulRuns":
		return intField(func(s *db.RunSummary) int { return s.SuccessfulRuns })
	case "totalRuns":
		return intField(func(s *db.RunSummary) int { return s.TotalRuns })
	case "totalTasks":
		return intField(func(s *db.RunSummary) int { return s.TotalTasks })
	case "totalUsers":
		return intField(func(s *db.RunSummary) int { return s.TotalUsers })
	}
	return nil
}

func userSummaryFields(_ *fastCompiler, f graphql.CollectedField) writer[db.UserSummary] {
	switch f.Name {
	case "failedTasks":
		return intField(func(s *db.UserSummary) int { return s.FailedTasks })
	case "failedUsers":
		return intField(func(s *db.UserSummary) int { return s.FailedUsers })
	case "successfulUsers":
		return intField(func(s *db.UserSummary) int { return s.SuccessfulUsers })
	case "totalTasks":
		return intField(func(s *db.UserSummary) int { return s.TotalTasks })
	case "totalUsers":
		return intField(func(s *db.UserSummary) int { return s.TotalUsers })
	}
	return nil
}

func statsFields(c *fastCompiler, f graphql.CollectedField) writer[db.TaskReportStats] {
	const o = "TaskReportStats"
	switch f.Name {
	case "key":
		return stringField(func(s *db.TaskReportStats) string { return s.Key })
	case "reportCount":
		return intField(func(s *db.TaskReportStats) int { return s.ReportCount })
	case "task":
		return objectField(c, o, f, taskImplementors, taskFields, false, nil,
			func(r *Resolver, ctx context.Context, s *db.TaskReportStats, _ map[string]any) (*db.Task, error) {
				return r.TaskReportStats().Task(ctx, s)
			})
	case "taskDefinition":
		return objectField(c, o, f, taskDefinitionImplementors, taskDefinitionFields, false, nil,
			func(r *Resolver, ctx context.Context, s *db.TaskReportStats, _ map[string]any) (*db.TaskDefinition, error) {
				return r.TaskReportStats().TaskDefinition(ctx, s)
			})
	case "run":
		return objectField(c, o, f, runImplementors, runFields, false, nil,
			func(r *Resolver, ctx context.Context, s *db.TaskReportStats, _ map[string]any) (*db.Run, error) {
				return r.TaskReportStats().Run(ctx, s)
			})
	}
	if w := summaryFields(c, f); w != nil {
		return func(e *fastExec, s *db.TaskReportStats) bool { return w(e, &s.TaskReportSummary) }
	}
	return nil
}

func userResultFields(c *fastCompiler, f graphql.CollectedField) writer[db.UserProcessingResult] {
	const o = "UserProcessingResult"
	switch f.Name {
	case "id":
		return stringField(func(u *db.UserProcessingResult) string { return u.ID })
	case "processingStatus":
		return enumField(func(u *db.UserProcessingResult) db.ProcessingStatus { return u.ProcessingStatus }, enums.AppendProcessingStatus)
	case "workflowExecutionType":
		return enumField(func(u *db.UserProcessingResult) db.ExecutionType { return u.WorkflowExecutionType }, enums.AppendExecutionType)
	case "workflowVersion":
		return intField(func(u *db.UserProcessingResult) int { return u.WorkflowVersion })
	case "scheduledDateTime":
		return timeField(func(u *db.UserProcessingResult) time.Time { return u.ScheduledDateTime })
	case "startedDateTime":
		return optTimeField(func(u *db.UserProcessingResult) *time.Time { return u.StartedDateTime })
	case "completedDateTime":
		return optTimeField(func(u *db.UserProcessingResult) *time.Time { return u.CompletedDateTime })
	case "totalTasksCount":
		return intField(func(u *db.UserProcessingResult) int { return u.TotalTasksCount })
	case "failedTasksCount":
		return intField(func(u *db.UserProcessingResult) int { return u.FailedTasksCount })
	case "totalUnprocessedTasksCount":
		return intField(func(u *db.UserProcessingResult) int { return u.TotalUnprocessedTasksCount })
	case "subject":
		return objectField(c, o, f, userImplementors, userFields, true, nil,
			func(r *Resolver, ctx context.Context, u *db.UserProcessingResult, _ map[string]any) (*db.User, error) {
				return r.UserProcessingResult().Subject(ctx, u)
			})
	case "run":
		return objectField(c, o, f, runImplementors, runFields, true, nil,
			func(r *Resolver, ctx context.Context, u *db.UserProcessingResult, _ map[string]any) (*db.Run, error) {
				return r.UserProcessingResult().Run(ctx, u)
			})
	case "workflow":
		return objectField(c, o, f, workflowImplementors, workflowFields, true, nil,
			func(r *Resolver, ctx context.Context, u *db.UserProcessingResult, _ map[string]any) (*db.Workflow, error) {
				return r.UserProcessingResult().Workflow(ctx, u)
			})
	case "version":
		return objectField(c, o, f, workflowVersionImplementors, versionFields, false, nil,
			func(r *Resolver, ctx context.Context, u *db.UserProcessingResult, _ map[string]any) (*db.WorkflowVersion, error) {
				return r.UserProcessingResult().Version(ctx, u)
			})
	case "taskProcessingResults":
		return connectionField(c, o, f, resultConnection(), (*executionContext).field_UserProcessingResult_taskProcessingResults_args,
			func(r *Resolver, ctx context.Context, u *db.UserProcessingResult, a map[string]any) (*model.Connection[db.TaskProcessingResult], error) {
				return r.UserProcessingResult().TaskProcessingResults(ctx, u, mustArg[*int](a, "first"), mustArg[*string](a, "after"), mustArg[*int](a, "last"),
					mustArg[*string](a, "before"), mustArg[*db.TaskProcessingResultWhere](a, "where"), mustArg[[]*model.Order](a, "orderBy"))
			})
	}
	return nil
}

func versionFields(c *fastCompiler, f graphql.CollectedField) writer[db.WorkflowVersion] {
	switch f.Name {
	case "versionNumber":
		return intField(func(v *db.WorkflowVersion) int { return v.VersionNumber })
	case "displayName":
		return stringField(func(v *db.WorkflowVersion) string { return v.DisplayName })
	case "description":
		return optStringField(func(v *db.WorkflowVersion) *string { return v.Description })
	case "category":
		return enumField(func(v *db.WorkflowVersion) db.WorkflowCategory { return v.Category }, enums.AppendWorkflowCategory)
	case "isEnabled":
		return boolField(func(v *db.WorkflowVersion) bool { return v.IsEnabled })
	case "isSchedulingEnabled":
		return boolField(func(v *db.WorkflowVersion) bool { return v.IsSchedulingEnabled })
	case "createdDateTime":
		return optTimeField(func(v *db.WorkflowVersion) *time.Time { return v.CreatedDateTime })
	case "lastModifiedDateTime":
		return optTimeField(func(v *db.WorkflowVersion) *time.Time { return v.LastModifiedDateTime })
	case "workflow":
		return objectField(c, "WorkflowVersion", f, workflowImplementors, workflowFields, true, nil,
			func(r *Resolver, ctx context.Context, v *db.WorkflowVersion, _ map[string]any) (*db.Workflow, error) {
				return r.WorkflowVersion().Workflow(ctx, v)
			})
	}
	return nil
}

func insightsFields(c *fastCompiler, f graphql.CollectedField) writer[model.Insights] {
	const o = "Insights"
	switch f.Name {
	case "startDateTime":
		return timeField(func(i *model.Insights) time.Time { return i.StartDateTime })
	case "endDateTime":
		return timeField(func(i *model.Insights) time.Time { return i.EndDateTime })
	case "workflowsProcessedSummary":
		return objectField(c, o, f, workflowsInsightsSummaryImplementors, insightsSummaryFields, true, nil,
			func(r *Resolver, ctx context.Context, i *model.Insights, _ map[string]any) (*db.InsightsSummary, error) {
				return r.Insights().WorkflowsProcessedSummary(ctx, i)
			})
	case "workflowsProcessedByCategory":
		return objectField(c, o, f, workflowsInsightsByCategoryImplementors, insightsByCategoryFields, true, nil,
			func(r *Resolver, ctx context.Context, i *model.Insights, _ map[string]any) (*model.WorkflowsInsightsByCategory, error) {
				return r.Insights().WorkflowsProcessedByCategory(ctx, i)
			})
	case "topWorkflowsProcessedSummary":
		return listField(c, o, f, topWorkflowsInsightsSummaryImplementors, topWorkflowFields, (*executionContext).field_Insights_topWorkflowsProcessedSummary_args,
			func(r *Resolver, ctx context.Context, i *model.Insights, a map[string]any) ([]*model.TopWorkflowsInsightsSummary, error) {
				return r.Insights().TopWorkflowsProcessedSummary(ctx, i, mustArg[*int](a, "first"))
			})
	case "topTasksProcessedSummary":
		return listField(c, o, f, topTasksInsightsSummaryImplementors, topTaskFields, (*executionContext).field_Insights_topTasksProcessedSummary_args,
			func(r *Resolver, ctx context.Context, i *model.Insights, a map[string]any) ([]*model.TopTasksInsightsSummary, error) {
				return r.Insights().TopTasksProcessedSummary(ctx, i, mustArg[*int](a, "first"))
			})
	case "groups":
		return listField(c, o, f, insightsGroupImplementors, insightsGroupFields, (*executionContext).field_Insights_groups_args,
			func(r *Resolver, ctx context.Context, i *model.Insights, a map[string]any) ([]*db.InsightsSummary, error) {
				return r.Insights().Groups(ctx, i, mustArg[string](a, "groupBy"))
			})
	case "failuresByReason":
		return listField(c, o, f, failureReasonCountImplementors, failureReasonFields, nil,
			func(r *Resolver, ctx context.Context, i *model.Insights, _ map[string]any) ([]*db.FailureReasonCount, error) {
				return r.Insights().FailuresByReason(ctx, i)
			})
	}
	return nil
}

// insightsSummaryFields is WorkflowsInsightsSummary, and InsightsGroup but its key.
func insightsSummaryFields(_ *fastCompiler, f graphql.CollectedField) writer[db.InsightsSummary] {
	switch f.Name {
	case "totalRuns":
		return intField(func(s *db.InsightsSummary) int { return s.TotalRuns })
	case "successfulRuns":
		return intField(func(s *db.InsightsSummary) int { return s.SuccessfulRuns })
	case "failedRuns":
		return intField(func(s *db.InsightsSummary) int { return s.FailedRuns })
	case "totalUsers":
		return intField(func(s *db.InsightsSummary) int { return s.TotalUsers })
	case "successfulUsers":
		return intField(func(s *db.InsightsSummary) int { return s.SuccessfulUsers })
	case "failedUsers":
		return intField(func(s *db.InsightsSummary) int { return s.FailedUsers })
	case "totalTasks":
		return intField(func(s *db.InsightsSummary) int { return s.TotalTasks })
	case "successfulTasks":
		return intField(func(s *db.InsightsSummary) int { return s.SuccessfulTasks })
	case "failedTasks":
		return intField(func(s *db.InsightsSummary) int { return s.FailedTasks })
	}
	return nil
}

func insightsGroupFields(c *fastCompiler, f graphql.CollectedField) writer[db.InsightsSummary] {
	if f.Name == "key" {
		return stringField(func(s *db.InsightsSummary) string { return s.Key })
	}
	return insightsSummaryFields(c, f)
}

func insightsByCategoryFields(_ *fastCompiler, f graphql.CollectedField) writer[model.WorkflowsInsightsByCategory] {
	type byCategory = model.WorkflowsInsightsByCategory
	switch f.Name {
	case "totalJoinerRuns":
		return intField(func(s *byCategory) int { return s.TotalJoinerRuns })
	case "successfulJoinerRuns":
		return intField(func(s *byCategory) int { return s.SuccessfulJoinerRuns })
	case "failedJoinerRuns":
		return intField(func(s *byCategory) int { return s.FailedJoinerRuns })
	case "totalMoverRuns":
		return intField(func(s *byCategory) int { return s.TotalMoverRuns })
	case "successfulMoverRuns":
		return intField(func(s *byCategory) int { return s.SuccessfulMoverRuns })
	case "failedMoverRuns":
		return intField(func(s *byCategory) int { return s.FailedMoverRuns })
	case "totalLeaverRuns":
		return intField(func(s *byCategory) int { return s.TotalLeaverRuns })
	case "successfulLeaverRuns":
		return intField(func(s *byCategory) int { return s.SuccessfulLeaverRuns })
	case "failedLeaverRuns":
		return intField(func(s *byCategory) int { return s.FailedLeaverRuns })
	}
	return nil
}

func topWorkflowFields(c *fastCompiler, f graphql.CollectedField) writer[model.TopWorkflowsInsightsSummary] {
	type top = model.TopWorkflowsInsightsSummary
	switch f.Name {
	case "workflowId":
		return stringField(func(s *top) string { return s.WorkflowID })
	case "workflowDisplayName":
		return stringField(func(s *top) string { return s.WorkflowDisplayName })
	case "workflowCategory":
		return enumField(func(s *top) db.WorkflowCategory { return s.WorkflowCategory }, enums.AppendWorkflowCategory)
	case "workflowVersion":
		return intField(func(s *top) int { return s.WorkflowVersion })
	case "workflow":
		return objectField(c, "TopWorkflowsInsightsSummary", f, workflowImplementors, workflowFields, false, nil,
			func(r *Resolver, ctx context.Context, s *top, _ map[string]any) (*db.Workflow, error) {
				return r.TopWorkflowsInsightsSummary().Workflow(ctx, s)
			})
	case "totalRuns":
		return intField(func(s *top) int { return s.TotalRuns })
	case "successfulRuns":
		return intField(func(s *top) int { return s.SuccessfulRuns })
	case "failedRuns":
		return intField(func(s *top) int { return s.FailedRuns })
	case "totalUsers":
		return intField(func(s *top) int { return s.TotalUsers })
	case "successfulUsers":
		return intField(func(s *top) int { return s.SuccessfulUsers })
	case "failedUsers":
		return intField(func(s *top) int { return s.FailedUsers })
	}
	return nil
}

func topTaskFields(c *fastCompiler, f graphql.CollectedField) writer[model.TopTasksInsightsSummary] {
	type top = model.TopTasksInsightsSummary
	switch f.Name {
	case "taskDefinitionId":
		return stringField(func(s *top) string { return s.TaskDefinitionID })
	case "taskDefinitionDisplayName":
		return stringField(func(s *top) string { return s.TaskDefinitionDisplayName })
	case "taskDefinition":
		return objectField(c, "TopTasksInsightsSummary", f, taskDefinitionImplementors, taskDefinitionFields, false, nil,
			func(r *Resolver, ctx context.Context, s *top, _ map[string]any) (*db.TaskDefinition, error) {
				return r.TopTasksInsightsSummary().TaskDefinition(ctx, s)
			})
	case "totalTasks":
		return intField(func(s *top) int { return s.TotalTasks })
	case "successfulTasks":
		return intField(func(s *top) int { return s.SuccessfulTasks })
	case "failedTasks":
		return intField(func(s *top) int { return s.FailedTasks })
	case "totalUsers":
		return intField(func(s *top) int { return s.TotalUsers })
	case "successfulUsers":
		return intField(func(s *top) int { return s.SuccessfulUsers })
	case "failedUsers":
		return intField(func(s *top) int { return s.FailedUsers })
	}
	return nil
}

func failureReasonFields(_ *fastCompiler, f graphql.CollectedField) writer[db.FailureReasonCount] {
	switch f.Name {
	case "failureReason":
		return optStringField(func(r *db.FailureReasonCount) *string { return r.FailureReason })
	case "count":
		return intField(func(r *db.FailureReasonCount) int { return r.Count })
	}
	return nil
}

// inputUnmarshalers is the index of gqlgen's generated input unmarshalers that the argument
// parsers look up in the context (generated.go's Exec installs the same list; an input missing
// here fails to parse, and the request then runs through gqlgen).
var inputUnmarshalers = sync.OnceValue(func() *graphql.InputUnmarshalerIndex {
	ec := argParser
	return graphql.NewInputUnmarshalerIndex(
		graphql.NewInputUnmarshaler("BooleanFilter", ec.unmarshalInputBooleanFilter),
		graphql.NewInputUnmarshaler("DateTimeFilter", ec.unmarshalInputDateTimeFilter),
		graphql.NewInputUnmarshaler("IDFilter", ec.unmarshalInputIDFilter),
		graphql.NewInputUnmarshaler("IntFilter", ec.unmarshalInputIntFilter),
		graphql.NewInputUnmarshaler("LifecycleTaskCategoryFilter", ec.unmarshalInputLifecycleTaskCategoryFilter),
		graphql.NewInputUnmarshaler("LifecycleWorkflowCategoryFilter", ec.unmarshalInputLifecycleWorkflowCategoryFilter),
		graphql.NewInputUnmarshaler("NullFilter", ec.unmarshalInputNullFilter),
		graphql.NewInputUnmarshaler("ProcessingStatusFilter", ec.unmarshalInputProcessingStatusFilter),
		graphql.NewInputUnmarshaler("RunOrder", ec.unmarshalInputRunOrder),
		graphql.NewInputUnmarshaler("RunWhere", ec.unmarshalInputRunWhere),
		graphql.NewInputUnmarshaler("StringFilter", ec.unmarshalInputStringFilter),
		graphql.NewInputUnmarshaler("TaskDefinitionOrder", ec.unmarshalInputTaskDefinitionOrder),
		graphql.NewInputUnmarshaler("TaskDefinitionWhere", ec.unmarshalInputTaskDefinitionWhere),
		graphql.NewInputUnmarshaler("TaskProcessingResultOrder", ec.unmarshalInputTaskProcessingResultOrder),
		graphql.NewInputUnmarshaler("TaskProcessingResultWhere", ec.unmarshalInputTaskProcessingResultWhere),
		graphql.NewInputUnmarshaler("TaskReportOrder", ec.unmarshalInputTaskReportOrder),
		graphql.NewInputUnmarshaler("TaskReportWhere", ec.unmarshalInputTaskReportWhere),
		graphql.NewInputUnmarshaler("UserProcessingResultOrder", ec.unmarshalInputUserProcessingResultOrder),
		graphql.NewInputUnmarshaler("UserProcessingResultWhere", ec.unmarshalInputUserProcessingResultWhere),
		graphql.NewInputUnmarshaler("WorkflowExecutionTypeFilter", ec.unmarshalInputWorkflowExecutionTypeFilter),
		graphql.NewInputUnmarshaler("WorkflowOrder", ec.unmarshalInputWorkflowOrder),
		graphql.NewInputUnmarshaler("WorkflowWhere", ec.unmarshalInputWorkflowWhere),
	)
})
