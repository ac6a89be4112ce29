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
  scheduled_date_time TIMESTAMPTZ NOT NULL,
  started_date_time TIMESTAMPTZ,
  completed_date_time TIMESTAMPTZ,
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

CREATE TRIGGER change_feed_insert AFTER INSERT ON user_processing_results REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('UserProcessingResult', 'workflow_id', 'run_id');
CREATE TRIGGER change_feed_update AFTER UPDATE ON user_processing_results REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('UserProcessingResult', 'workflow_id', 'run_id');

-- +goose Down
DROP TRIGGER change_feed_update ON user_processing_results;
DROP TRIGGER change_feed_insert ON user_processing_results;
DROP INDEX idx_tpr_run_subject;
DROP TABLE user_processing_results;
