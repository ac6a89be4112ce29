-- +goose Up
-- Graph's workflowVersion: one row per saved version of a workflow. Graph keys a version by its
-- number under the workflow; the row's id is "{workflowId}/{versionNumber}".
CREATE TABLE workflow_versions (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  version_number INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  description TEXT,
  category TEXT NOT NULL,
  is_enabled BOOLEAN NOT NULL,
  is_scheduling_enabled BOOLEAN NOT NULL,
  created_date_time TIMESTAMPTZ,
  last_modified_date_time TIMESTAMPTZ,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_workflow_versions_workflow ON workflow_versions (tenant_id, workflow_id, version_number);

-- When a full sync pass first found a workflow or run gone from Graph: the row stays (history is
-- what the gateway keeps) but no longer looks current.
ALTER TABLE workflows ADD COLUMN missing_since_date_time TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN missing_since_date_time TIMESTAMPTZ;
-- Deleted workflows are listed apart from the others.
CREATE INDEX idx_workflows_deleted ON workflows (tenant_id, deleted_date_time NULLS FIRST);

-- +goose Down
DROP INDEX idx_workflows_deleted;
ALTER TABLE runs DROP COLUMN missing_since_date_time;
ALTER TABLE workflows DROP COLUMN missing_since_date_time;
DROP TABLE workflow_versions;
