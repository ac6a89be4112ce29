-- +goose Up
-- 00006 added missing_since_date_time to workflows and runs, but SQLite's update triggers list the
-- columns they compare (00003), so marking a row missing (or a row coming back) recorded no
-- change-feed entry, while PostgreSQL's trigger compares whole rows and did. The triggers are
-- recreated with the column; a re-mark that changes nothing still records nothing.
DROP TRIGGER change_feed_workflows_update;
DROP TRIGGER change_feed_runs_update;
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
  OR OLD.missing_since_date_time IS NOT NEW.missing_since_date_time
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Workflow', NEW.id, NEW.id, NULL);
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
  OR OLD.missing_since_date_time IS NOT NEW.missing_since_date_time
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'Run', NEW.id, NEW.workflow_id, NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER change_feed_workflows_update;
DROP TRIGGER change_feed_runs_update;
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
