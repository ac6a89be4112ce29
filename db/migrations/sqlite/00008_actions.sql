-- +goose Up
-- What callers asked Microsoft Graph to do through the gateway's mutations: one row per mutation,
-- kept as the audit trail (Query.actions), and the idempotency keys that make a retried mutation
-- answer with its first result instead of acting twice.

-- One row per mutation: who, in which tenant, what, dry run or not, and Graph's answer per call
-- (status, request ids), as JSON text read whole.
CREATE TABLE actions (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created_date_time DATETIME NOT NULL,
  principal_id TEXT NOT NULL,
  identity TEXT NOT NULL,
  kind TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  dry_run BOOLEAN NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL,
  arguments TEXT NOT NULL,
  calls TEXT NOT NULL,
  subjects TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_actions_created ON actions (tenant_id, created_date_time, id);

-- A key a principal sent with a mutation, until it expires: the action it answered with (empty
-- while the first request is still acting) and a digest of the request, so that the same key
-- with other arguments is refused rather than answered with another action's result.
CREATE TABLE action_idempotency (
  tenant_id TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_digest TEXT NOT NULL,
  action_id TEXT NOT NULL,
  expires_at DATETIME NOT NULL,
  PRIMARY KEY (tenant_id, principal_id, idempotency_key)
);
CREATE INDEX idx_action_idempotency_expiry ON action_idempotency (tenant_id, expires_at);

-- +goose Down
DROP TABLE action_idempotency;
DROP TABLE actions;
