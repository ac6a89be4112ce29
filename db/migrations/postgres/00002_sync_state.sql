-- +goose Up
-- What live sync (go run . sync) has stored, so that the next pass fetches only what changed and an
-- interrupted pass resumes where it stopped. Graph data itself lives in the tables of 00001.

-- One row per workflow whose last pass completed: runs updated before the watermark (less a safety
-- overlap) are not listed again.
CREATE TABLE sync_workflows (
  tenant_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  watermark TIMESTAMPTZ,
  completed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (tenant_id, workflow_id)
);

-- The checkpoint: a run whose task reports, results and subjects are all stored, as of the run's
-- lastUpdatedDateTime and status. A pass skips a run listed again at the same version once it has
-- finished; an unfinished one is fetched again until it finishes.
CREATE TABLE sync_runs (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  last_updated_date_time TIMESTAMPTZ,
  processing_status TEXT NOT NULL,
  synced_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_sync_runs_workflow ON sync_runs (tenant_id, workflow_id);

-- The last pass over a tenant, for /readyz and /metrics.
CREATE TABLE sync_tenants (
  tenant_id TEXT NOT NULL,
  last_attempt_at TIMESTAMPTZ NOT NULL,
  last_success_at TIMESTAMPTZ,
  last_error TEXT,
  PRIMARY KEY (tenant_id)
);

-- +goose Down
DROP TABLE sync_tenants;
DROP TABLE sync_runs;
DROP TABLE sync_workflows;
