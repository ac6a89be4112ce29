-- +goose Up
-- Graph's userProcessingResult: one workflow execution for one user (one per user per run), with
-- the counters of that user's task processing results in the run.
CREATE TABLE user_processing_results (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  processing_status TEXT NOT NULL,
  workflow_execution_type TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  scheduled_date_time DATETIME NOT NULL,
  started_date_time DATETIME,
  completed_date_time DATETIME,
  total_tasks_count INTEGER NOT NULL,
  failed_tasks_count INTEGER NOT NULL,
  total_unprocessed_tasks_count INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_upr_run ON user_processing_results (tenant_id, run_id, id);
CREATE INDEX idx_upr_workflow ON user_processing_results (tenant_id, workflow_id, id);
CREATE INDEX idx_upr_subject ON user_processing_results (tenant_id, subject_id, id);
CREATE INDEX idx_upr_workflow_scheduled ON user_processing_results (tenant_id, workflow_id, scheduled_date_time, id);
-- A user processing result's task processing results are those of its run and its subject.
CREATE INDEX idx_tpr_run_subject ON task_processing_results (tenant_id, run_id, subject_id, id);

-- +goose StatementBegin
CREATE TRIGGER change_feed_user_processing_results_insert AFTER INSERT ON user_processing_results
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'UserProcessingResult', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER change_feed_user_processing_results_update AFTER UPDATE ON user_processing_results
WHEN OLD.workflow_id IS NOT NEW.workflow_id
  OR OLD.run_id IS NOT NEW.run_id
  OR OLD.subject_id IS NOT NEW.subject_id
  OR OLD.processing_status IS NOT NEW.processing_status
  OR OLD.workflow_execution_type IS NOT NEW.workflow_execution_type
  OR OLD.workflow_version IS NOT NEW.workflow_version
  OR OLD.scheduled_date_time IS NOT NEW.scheduled_date_time
  OR OLD.started_date_time IS NOT NEW.started_date_time
  OR OLD.completed_date_time IS NOT NEW.completed_date_time
  OR OLD.total_tasks_count IS NOT NEW.total_tasks_count
  OR OLD.failed_tasks_count IS NOT NEW.failed_tasks_count
  OR OLD.total_unprocessed_tasks_count IS NOT NEW.total_unprocessed_tasks_count
BEGIN
  INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id) VALUES (NEW.tenant_id, 'UserProcessingResult', NEW.id, NEW.workflow_id, NEW.run_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER change_feed_user_processing_results_update;
DROP TRIGGER change_feed_user_processing_results_insert;
DROP INDEX idx_tpr_run_subject;
DROP TABLE user_processing_results;
