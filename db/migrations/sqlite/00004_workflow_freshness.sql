-- +goose Up
-- When the gateway last saw Graph's data for a workflow: every write of Graph's rows (sync, import)
-- stamps the workflows its rows belong to, changed or not, in the writing transaction. Kept apart
-- from workflows so that a stamp changes no row of Graph's and records nothing in the change feed.
-- Demo data (seed) has no stamp: Graph never said it.
CREATE TABLE workflow_freshness (
  tenant_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  last_synced_at DATETIME NOT NULL,
  PRIMARY KEY (tenant_id, workflow_id)
);

-- +goose Down
DROP TABLE workflow_freshness;
