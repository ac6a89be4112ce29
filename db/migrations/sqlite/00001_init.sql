-- +goose Up
-- Timestamps are declared DATETIME so the driver reads them back as time.Time; they are written as
-- UTC text of one layout, which keeps text comparison in SQL equal to time order.
CREATE TABLE task_definitions (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  category TEXT NOT NULL,
  continue_on_error BOOLEAN,
  description TEXT,
  display_name TEXT NOT NULL,
  parameters TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_task_definitions_display_name ON task_definitions (tenant_id, display_name, id);

CREATE TABLE workflows (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT,
  category TEXT NOT NULL,
  is_enabled BOOLEAN NOT NULL,
  is_scheduling_enabled BOOLEAN NOT NULL,
  version INTEGER NOT NULL,
  created_date_time DATETIME,
  last_modified_date_time DATETIME,
  deleted_date_time DATETIME,
  next_schedule_run_date_time DATETIME,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_workflows_display_name ON workflows (tenant_id, display_name, id);

CREATE TABLE tasks (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  arguments TEXT NOT NULL,
  category TEXT NOT NULL,
  continue_on_error BOOLEAN NOT NULL,
  description TEXT,
  display_name TEXT NOT NULL,
  execution_sequence INTEGER NOT NULL,
  is_enabled BOOLEAN NOT NULL,
  task_definition_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_tasks_workflow ON tasks (tenant_id, workflow_id, execution_sequence);
CREATE INDEX idx_tasks_task_definition ON tasks (tenant_id, task_definition_id);

CREATE TABLE runs (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  processing_status TEXT NOT NULL,
  workflow_execution_type TEXT NOT NULL,
  scheduled_date_time DATETIME NOT NULL,
  started_date_time DATETIME,
  completed_date_time DATETIME,
  last_updated_date_time DATETIME,
  total_users_count INTEGER NOT NULL,
  successful_users_count INTEGER NOT NULL,
  failed_users_count INTEGER NOT NULL,
  total_tasks_count INTEGER NOT NULL,
  failed_tasks_count INTEGER NOT NULL,
  total_unprocessed_tasks_count INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_runs_workflow_scheduled ON runs (tenant_id, workflow_id, scheduled_date_time, id);
CREATE INDEX idx_runs_workflow_started ON runs (tenant_id, workflow_id, started_date_time, id);

CREATE TABLE task_reports (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  task_definition_id TEXT NOT NULL,
  processing_status TEXT NOT NULL,
  successful_users_count INTEGER NOT NULL,
  failed_users_count INTEGER NOT NULL,
  unprocessed_users_count INTEGER NOT NULL,
  total_users_count INTEGER NOT NULL,
  started_date_time DATETIME,
  completed_date_time DATETIME,
  last_updated_date_time DATETIME NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_task_reports_workflow ON task_reports (tenant_id, workflow_id, id);
CREATE INDEX idx_task_reports_workflow_started ON task_reports (tenant_id, workflow_id, started_date_time);
CREATE INDEX idx_task_reports_run ON task_reports (tenant_id, run_id, id);
CREATE INDEX idx_task_reports_task ON task_reports (tenant_id, task_id);
CREATE INDEX idx_task_reports_task_definition ON task_reports (tenant_id, task_definition_id);
CREATE INDEX idx_task_reports_workflow_status ON task_reports (tenant_id, workflow_id, processing_status, id);
CREATE INDEX idx_task_reports_workflow_completed ON task_reports (tenant_id, workflow_id, completed_date_time, id);

CREATE TABLE task_processing_results (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_report_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  created_date_time DATETIME NOT NULL,
  started_date_time DATETIME,
  completed_date_time DATETIME,
  processing_status TEXT NOT NULL,
  failure_reason TEXT,
  processing_info TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_tpr_task_report ON task_processing_results (tenant_id, task_report_id, id);
CREATE INDEX idx_tpr_run ON task_processing_results (tenant_id, run_id, id);
CREATE INDEX idx_tpr_workflow ON task_processing_results (tenant_id, workflow_id, id);
CREATE INDEX idx_tpr_task ON task_processing_results (tenant_id, task_id);
CREATE INDEX idx_tpr_subject ON task_processing_results (tenant_id, subject_id);
CREATE INDEX idx_tpr_workflow_status ON task_processing_results (tenant_id, workflow_id, processing_status, id);
CREATE INDEX idx_tpr_workflow_created ON task_processing_results (tenant_id, workflow_id, created_date_time, id);
CREATE INDEX idx_tpr_workflow_completed ON task_processing_results (tenant_id, workflow_id, completed_date_time, id);
CREATE INDEX idx_tpr_run_status ON task_processing_results (tenant_id, run_id, processing_status, id);

CREATE TABLE users (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  display_name TEXT,
  user_principal_name TEXT,
  mail TEXT,
  PRIMARY KEY (tenant_id, id)
);

-- +goose Down
DROP TABLE users;
DROP TABLE task_processing_results;
DROP TABLE task_reports;
DROP TABLE runs;
DROP TABLE tasks;
DROP TABLE workflows;
DROP TABLE task_definitions;
