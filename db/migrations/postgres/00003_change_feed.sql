-- +goose Up
-- The change feed: one entry per row of workflows, runs, task reports and task processing results
-- whose content changed, written by triggers in the writing transaction itself, so every write
-- path (import, sync, seed, any later one) records it and an upsert that changes nothing records
-- nothing. Subscriptions replay it from a client's cursor; every gateway on the database LISTENs
-- on lcw_change_feed and reads the new entries when notified.
CREATE TABLE change_feed (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
-- No secondary index: every read is a range of seq (the broker's tail, a replay after a cursor,
-- pruning from the oldest), and writes stay one append per change.

-- Statement-level triggers with transition tables: a 1,000-row upsert writes its entries in one
-- INSERT ... SELECT and sends one notification. Readers go through seq in order, so seq order
-- must be commit order: a transaction that records entries first takes a transaction-scoped
-- advisory lock, which makes writers that change data commit one after the other (from their
-- first change to their commit; readers are never blocked).
-- +goose StatementBegin
CREATE FUNCTION change_feed_notify(tenant TEXT, last_seq BIGINT) RETURNS void LANGUAGE sql AS $$
  SELECT pg_notify('lcw_change_feed', tenant || ' ' || last_seq)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION change_feed_workflows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant TEXT;
  last_seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM new_rows LIMIT 1;
  ELSE
    PERFORM 1 FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.display_name, o.description, o.category, o.is_enabled, o.is_scheduling_enabled, o.version, o.created_date_time, o.last_modified_date_time, o.deleted_date_time, o.next_schedule_run_date_time) IS DISTINCT FROM (n.display_name, n.description, n.category, n.is_enabled, n.is_scheduling_enabled, n.version, n.created_date_time, n.last_modified_date_time, n.deleted_date_time, n.next_schedule_run_date_time) LIMIT 1;
  END IF;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7436291105);
  IF TG_OP = 'INSERT' THEN
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'Workflow', n.id, n.id, NULL FROM new_rows n
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  ELSE
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'Workflow', n.id, n.id, NULL
      FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.display_name, o.description, o.category, o.is_enabled, o.is_scheduling_enabled, o.version, o.created_date_time, o.last_modified_date_time, o.deleted_date_time, o.next_schedule_run_date_time) IS DISTINCT FROM (n.display_name, n.description, n.category, n.is_enabled, n.is_scheduling_enabled, n.version, n.created_date_time, n.last_modified_date_time, n.deleted_date_time, n.next_schedule_run_date_time)
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  END IF;
  PERFORM change_feed_notify(tenant, last_seq);
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER change_feed_workflows_insert AFTER INSERT ON workflows
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_workflows();
CREATE TRIGGER change_feed_workflows_update AFTER UPDATE ON workflows
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_workflows();

-- +goose StatementBegin
CREATE FUNCTION change_feed_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant TEXT;
  last_seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM new_rows LIMIT 1;
  ELSE
    PERFORM 1 FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.processing_status, o.workflow_execution_type, o.scheduled_date_time, o.started_date_time, o.completed_date_time, o.last_updated_date_time, o.total_users_count, o.successful_users_count, o.failed_users_count, o.total_tasks_count, o.failed_tasks_count, o.total_unprocessed_tasks_count) IS DISTINCT FROM (n.workflow_id, n.processing_status, n.workflow_execution_type, n.scheduled_date_time, n.started_date_time, n.completed_date_time, n.last_updated_date_time, n.total_users_count, n.successful_users_count, n.failed_users_count, n.total_tasks_count, n.failed_tasks_count, n.total_unprocessed_tasks_count) LIMIT 1;
  END IF;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7436291105);
  IF TG_OP = 'INSERT' THEN
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'Run', n.id, n.workflow_id, n.id FROM new_rows n
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  ELSE
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'Run', n.id, n.workflow_id, n.id
      FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.processing_status, o.workflow_execution_type, o.scheduled_date_time, o.started_date_time, o.completed_date_time, o.last_updated_date_time, o.total_users_count, o.successful_users_count, o.failed_users_count, o.total_tasks_count, o.failed_tasks_count, o.total_unprocessed_tasks_count) IS DISTINCT FROM (n.workflow_id, n.processing_status, n.workflow_execution_type, n.scheduled_date_time, n.started_date_time, n.completed_date_time, n.last_updated_date_time, n.total_users_count, n.successful_users_count, n.failed_users_count, n.total_tasks_count, n.failed_tasks_count, n.total_unprocessed_tasks_count)
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  END IF;
  PERFORM change_feed_notify(tenant, last_seq);
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER change_feed_runs_insert AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_runs();
CREATE TRIGGER change_feed_runs_update AFTER UPDATE ON runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_runs();

-- +goose StatementBegin
CREATE FUNCTION change_feed_task_reports() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant TEXT;
  last_seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM new_rows LIMIT 1;
  ELSE
    PERFORM 1 FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.run_id, o.task_id, o.task_definition_id, o.processing_status, o.successful_users_count, o.failed_users_count, o.unprocessed_users_count, o.total_users_count, o.started_date_time, o.completed_date_time, o.last_updated_date_time) IS DISTINCT FROM (n.workflow_id, n.run_id, n.task_id, n.task_definition_id, n.processing_status, n.successful_users_count, n.failed_users_count, n.unprocessed_users_count, n.total_users_count, n.started_date_time, n.completed_date_time, n.last_updated_date_time) LIMIT 1;
  END IF;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7436291105);
  IF TG_OP = 'INSERT' THEN
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'TaskReport', n.id, n.workflow_id, n.run_id FROM new_rows n
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  ELSE
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'TaskReport', n.id, n.workflow_id, n.run_id
      FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.run_id, o.task_id, o.task_definition_id, o.processing_status, o.successful_users_count, o.failed_users_count, o.unprocessed_users_count, o.total_users_count, o.started_date_time, o.completed_date_time, o.last_updated_date_time) IS DISTINCT FROM (n.workflow_id, n.run_id, n.task_id, n.task_definition_id, n.processing_status, n.successful_users_count, n.failed_users_count, n.unprocessed_users_count, n.total_users_count, n.started_date_time, n.completed_date_time, n.last_updated_date_time)
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  END IF;
  PERFORM change_feed_notify(tenant, last_seq);
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER change_feed_task_reports_insert AFTER INSERT ON task_reports
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_task_reports();
CREATE TRIGGER change_feed_task_reports_update AFTER UPDATE ON task_reports
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_task_reports();

-- +goose StatementBegin
CREATE FUNCTION change_feed_task_processing_results() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant TEXT;
  last_seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM new_rows LIMIT 1;
  ELSE
    PERFORM 1 FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.run_id, o.task_report_id, o.task_id, o.subject_id, o.created_date_time, o.started_date_time, o.completed_date_time, o.processing_status, o.failure_reason, o.processing_info) IS DISTINCT FROM (n.workflow_id, n.run_id, n.task_report_id, n.task_id, n.subject_id, n.created_date_time, n.started_date_time, n.completed_date_time, n.processing_status, n.failure_reason, n.processing_info) LIMIT 1;
  END IF;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7436291105);
  IF TG_OP = 'INSERT' THEN
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'TaskProcessingResult', n.id, n.workflow_id, n.run_id FROM new_rows n
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  ELSE
    WITH added AS (
      INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT n.tenant_id, 'TaskProcessingResult', n.id, n.workflow_id, n.run_id
      FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
      WHERE (o.workflow_id, o.run_id, o.task_report_id, o.task_id, o.subject_id, o.created_date_time, o.started_date_time, o.completed_date_time, o.processing_status, o.failure_reason, o.processing_info) IS DISTINCT FROM (n.workflow_id, n.run_id, n.task_report_id, n.task_id, n.subject_id, n.created_date_time, n.started_date_time, n.completed_date_time, n.processing_status, n.failure_reason, n.processing_info)
      RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) INTO last_seq, tenant FROM added;
  END IF;
  PERFORM change_feed_notify(tenant, last_seq);
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER change_feed_task_processing_results_insert AFTER INSERT ON task_processing_results
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_task_processing_results();
CREATE TRIGGER change_feed_task_processing_results_update AFTER UPDATE ON task_processing_results
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION change_feed_task_processing_results();

-- +goose Down
DROP TRIGGER change_feed_workflows_update ON workflows;
DROP TRIGGER change_feed_workflows_insert ON workflows;
DROP FUNCTION change_feed_workflows();
DROP TRIGGER change_feed_runs_update ON runs;
DROP TRIGGER change_feed_runs_insert ON runs;
DROP FUNCTION change_feed_runs();
DROP TRIGGER change_feed_task_reports_update ON task_reports;
DROP TRIGGER change_feed_task_reports_insert ON task_reports;
DROP FUNCTION change_feed_task_reports();
DROP TRIGGER change_feed_task_processing_results_update ON task_processing_results;
DROP TRIGGER change_feed_task_processing_results_insert ON task_processing_results;
DROP FUNCTION change_feed_task_processing_results();
DROP FUNCTION change_feed_notify(TEXT, BIGINT);
DROP TABLE change_feed;
