-- Workflow engine tables: namespaces, templates, tasks, their steps (a DAG) and the
-- history of every state change. Current state lives on the row (for compare-and-swap);
-- transitions keep the full history with a per-entity sort key.

CREATE TABLE tasker.namespaces (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasker.named_templates (
  namespace text NOT NULL REFERENCES tasker.namespaces (name),
  name text NOT NULL,
  version text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, name, version)
);

CREATE TABLE tasker.tasks (
  task_uuid uuid PRIMARY KEY,
  namespace text NOT NULL,
  name text NOT NULL,
  version text NOT NULL,
  context jsonb NOT NULL,
  status text NOT NULL,
  correlation_id text NOT NULL,
  idempotency_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  FOREIGN KEY (namespace, name, version) REFERENCES tasker.named_templates (namespace, name, version)
);
CREATE INDEX tasks_status_idx ON tasker.tasks (status);

CREATE TABLE tasker.workflow_steps (
  step_uuid uuid PRIMARY KEY,
  task_uuid uuid NOT NULL REFERENCES tasker.tasks (task_uuid) ON DELETE CASCADE,
  name text NOT NULL,
  position integer NOT NULL,
  handler_callable text NOT NULL,
  handler_initialization jsonb NOT NULL DEFAULT '{}',
  retryable boolean NOT NULL,
  max_attempts integer NOT NULL,
  backoff text NOT NULL,
  backoff_base_ms integer NOT NULL,
  max_backoff_ms integer NOT NULL,
  timeout_seconds integer NOT NULL,
  state text NOT NULL,
  -- Attempts started so far; an attempt's number fences its result against stale workers.
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  result jsonb,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_uuid, name)
);
CREATE INDEX workflow_steps_retry_idx ON tasker.workflow_steps (next_attempt_at)
  WHERE state = 'waiting_for_retry';

CREATE TABLE tasker.workflow_step_edges (
  task_uuid uuid NOT NULL REFERENCES tasker.tasks (task_uuid) ON DELETE CASCADE,
  from_step_uuid uuid NOT NULL REFERENCES tasker.workflow_steps (step_uuid) ON DELETE CASCADE,
  to_step_uuid uuid NOT NULL REFERENCES tasker.workflow_steps (step_uuid) ON DELETE CASCADE,
  PRIMARY KEY (from_step_uuid, to_step_uuid)
);
CREATE INDEX workflow_step_edges_to_idx ON tasker.workflow_step_edges (to_step_uuid);

-- One row per attempt a worker started: its outcome, result or error, and who ran it.
CREATE TABLE tasker.step_attempts (
  step_uuid uuid NOT NULL REFERENCES tasker.workflow_steps (step_uuid) ON DELETE CASCADE,
  attempt integer NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('running', 'success', 'failure', 'lost')),
  result jsonb,
  error jsonb,
  worker_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (step_uuid, attempt)
);

CREATE TABLE tasker.task_transitions (
  id bigserial PRIMARY KEY,
  task_uuid uuid NOT NULL REFERENCES tasker.tasks (task_uuid) ON DELETE CASCADE,
  from_state text,
  to_state text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  sort_key integer NOT NULL,
  most_recent boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_uuid, sort_key)
);
CREATE UNIQUE INDEX task_transitions_most_recent_idx ON tasker.task_transitions (task_uuid) WHERE most_recent;

CREATE TABLE tasker.step_transitions (
  id bigserial PRIMARY KEY,
  step_uuid uuid NOT NULL REFERENCES tasker.workflow_steps (step_uuid) ON DELETE CASCADE,
  task_uuid uuid NOT NULL,
  from_state text,
  to_state text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  sort_key integer NOT NULL,
  most_recent boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (step_uuid, sort_key)
);
CREATE UNIQUE INDEX step_transitions_most_recent_idx ON tasker.step_transitions (step_uuid) WHERE most_recent;
CREATE INDEX step_transitions_task_idx ON tasker.step_transitions (task_uuid);

-- Compare-and-swap state changes with their history in one call: the row changes only if it
-- is still in p_from, so of two orchestrators racing for the same transition exactly one wins.
-- tasker.transition_task is defined with tasker.transition_task_path (0006).
CREATE FUNCTION tasker.transition_step(p_step uuid, p_from text, p_to text, p_metadata jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  next_key integer;
  owner uuid;
BEGIN
  UPDATE tasker.workflow_steps
     SET state = p_to, updated_at = now()
   WHERE step_uuid = p_step AND state = p_from
  RETURNING task_uuid INTO owner;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE tasker.step_transitions SET most_recent = false WHERE step_uuid = p_step AND most_recent
  RETURNING sort_key + 1 INTO next_key;
  INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, metadata, sort_key, most_recent)
  VALUES (p_step, owner, p_from, p_to, p_metadata, COALESCE(next_key, 1), true);
  RETURN true;
END;
$$;
