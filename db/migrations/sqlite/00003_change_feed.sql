-- +goose Up
-- The change feed: one entry per row of workflows, runs, task reports and task processing results
-- whose content changed, written by triggers in the writing transaction itself, so every write
-- path (import, sync, seed, any later one) records it and an upsert that changes nothing records
-- nothing. seq orders the entries: SQLite has one writer at a time, so seq order is commit order.
-- Subscriptions tail it (a short indexed poll on seq) and replay it from a client's cursor.
CREATE TABLE change_feed (
  seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT,
  -- The layout the driver writes and reads for DATETIME; milliseconds, when the row was written.
  changed_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
-- No secondary index: every read is a range of seq (the broker's tail, a replay after a cursor,
-- pruning from the oldest), and writes stay one append per change.

-- +goose StatementBegin
CREATE TRIGGER change_feed_workflows_insert AFTER INSERT ON workflows
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Workflow', NEW.id, NEW.id, NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER change_feed_workflows_update AFTER UPDATE ON workflows
WHEN OLD.display_name IS NOT NEW.display_name
  OR OLD.description IS NOT NEW.description
  OR OLD.category IS NOT NEW.category
  OR OLD.is_enabled IS NOT NEW.is_enabled
  OR OLD.is_scheduling_enabled IS NOT NEW.is_scheduling_enabled
  OR OLD.version IS NOT NEW.version
  OR OLD.created_date_time IS NOT NEW.created_date_time
  OR OLD.last_modified_date_time IS NOT NEW.last_modified_date_time
  OR OLD.deleted_date_time IS NOT NEW.deleted_date_time
  OR OLD.next_schedule_run_date_time IS NOT NEW.next_schedule_run_date_time
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Workflow', NEW.id, NEW.id, NULL);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER change_feed_runs_insert AFTER INSERT ON runs
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Run', NEW.id, NEW.workflow_id, NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER change_feed_runs_update AFTER UPDATE ON runs
WHEN OLD.workflow_id IS NOT NEW.workflow_id
  OR OLD.processing_status IS NOT NEW.processing_status
  OR OLD.workflow_execution_type IS NOT NEW.workflow_execution_type
  OR OLD.scheduled_date_time IS NOT NEW.scheduled_date_time
  OR OLD.started_date_time IS NOT NEW.started_date_time
  OR OLD.completed_date_time IS NOT NEW.completed_date_time
  OR OLD.last_updated_date_time IS NOT NEW.last_updated_date_time
  OR OLD.total_users_count IS NOT NEW.total_users_count
  OR OLD.successful_users_count IS NOT NEW.successful_users_count
  OR OLD.failed_users_count IS NOT NEW.failed_users_count
  OR OLD.total_tasks_count IS NOT NEW.total_tasks_count
  OR OLD.failed_tasks_count IS NOT NEW.failed_tasks_count
  OR OLD.total_unprocessed_tasks_count IS NOT NEW.total_unprocessed_tasks_count
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Run', NEW.id, NEW.workflow_id, NEW.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER change_feed_task_reports_insert AFTER INSERT ON task_reports
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'TaskReport', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER change_feed_task_reports_update AFTER UPDATE ON task_reports
WHEN OLD.workflow_id IS NOT NEW.workflow_id
  OR OLD.run_id IS NOT NEW.run_id
  OR OLD.task_id IS NOT NEW.task_id
  OR OLD.task_definition_id IS NOT NEW.task_definition_id
  OR OLD.processing_status IS NOT NEW.processing_status
  OR OLD.successful_users_count IS NOT NEW.successful_users_count
  OR OLD.failed_users_count IS NOT NEW.failed_users_count
  OR OLD.unprocessed_users_count IS NOT NEW.unprocessed_users_count
  OR OLD.total_users_count IS NOT NEW.total_users_count
  OR OLD.started_date_time IS NOT NEW.started_date_time
  OR OLD.completed_date_time IS NOT NEW.completed_date_time
  OR OLD.last_updated_date_time IS NOT NEW.last_updated_date_time
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'TaskReport', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER change_feed_task_processing_results_insert AFTER INSERT ON task_processing_results
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'TaskProcessingResult', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER change_feed_task_processing_results_update AFTER UPDATE ON task_processing_results
WHEN OLD.workflow_id IS NOT NEW.workflow_id
  OR OLD.run_id IS NOT NEW.run_id
  OR OLD.task_report_id IS NOT NEW.task_report_id
  OR OLD.task_id IS NOT NEW.task_id
  OR OLD.subject_id IS NOT NEW.subject_id
  OR OLD.created_date_time IS NOT NEW.created_date_time
  OR OLD.started_date_time IS NOT NEW.started_date_time
  OR OLD.completed_date_time IS NOT NEW.completed_date_time
  OR OLD.processing_status IS NOT NEW.processing_status
  OR OLD.failure_reason IS NOT NEW.failure_reason
  OR OLD.processing_info IS NOT NEW.processing_info
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'TaskProcessingResult', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER change_feed_workflows_update;
DROP TRIGGER change_feed_workflows_insert;
DROP TRIGGER change_feed_runs_update;
DROP TRIGGER change_feed_runs_insert;
DROP TRIGGER change_feed_task_reports_update;
DROP TRIGGER change_feed_task_reports_insert;
DROP TRIGGER change_feed_task_processing_results_update;
DROP TRIGGER change_feed_task_processing_results_insert;
DROP TABLE change_feed;
