-- The engine's hot paths as single statements: a worker reads and claims its steps in one
-- round trip and reports their outcomes in another; the orchestrator's building blocks (a path
-- of task transitions, enqueueing ready steps, settling a reported attempt) are used by
-- tasker.orchestrate (0007). Each keeps the compare-and-swap semantics of
-- tasker.transition_task / tasker.transition_step.

-- Moves a task through p_path[1] → p_path[2] → …, recording p_metadata[i - 1] with the move
-- into p_path[i]; false when the task is no longer in p_path[1] (the caller then rolls back).
-- The task is locked by the caller, so the intermediate states are written as history in one
-- INSERT rather than as a row update each (a result usually moves a task three steps).
CREATE FUNCTION tasker.transition_task_path(p_task uuid, p_path text[], p_metadata jsonb[])
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_path, 1), 0);
  final text := p_path[n];
  next_key integer;
BEGIN
  IF n < 2 THEN
    RETURN true;
  END IF;
  UPDATE tasker.tasks
     SET status = final,
         updated_at = now(),
         completed_at = CASE WHEN final IN ('complete', 'error', 'cancelled', 'resolved_manually') THEN now() END
   WHERE task_uuid = p_task AND status = p_path[1];
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE tasker.task_transitions SET most_recent = false WHERE task_uuid = p_task AND most_recent
  RETURNING sort_key + 1 INTO next_key;
  INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, metadata, sort_key, most_recent)
  SELECT p_task, p_path[i - 1], p_path[i], p_metadata[i - 1], coalesce(next_key, 1) + i - 2, i = n
    FROM generate_series(2, n) AS i;
  -- Lets anyone waiting for a task (tasker run, tests, benchmarks) wake up at commit.
  IF final IN ('complete', 'error', 'cancelled', 'resolved_manually') THEN
    PERFORM pg_notify('tasker_task_finished', p_task::text);
  END IF;
  RETURN true;
END;
$$;

-- A single compare-and-swap transition is a path of one move.
CREATE FUNCTION tasker.transition_task(p_task uuid, p_from text, p_to text, p_metadata jsonb)
RETURNS boolean LANGUAGE sql AS $$
  SELECT tasker.transition_task_path(p_task, ARRAY[p_from, p_to], ARRAY[p_metadata])
$$;

-- Marks steps enqueued (each from its current state) and returns their worker-queue messages,
-- in step order; tasker.orchestrate sends the messages of a whole batch together.
CREATE FUNCTION tasker.enqueue_steps(p_task uuid, p_steps uuid[])
RETURNS jsonb[] LANGUAGE plpgsql AS $$
DECLARE
  step record;
  messages jsonb[] := '{}';
BEGIN
  FOR step IN
    SELECT s.step_uuid, s.name, s.state, s.attempts FROM tasker.workflow_steps s
     WHERE s.task_uuid = p_task AND s.step_uuid = ANY (p_steps) ORDER BY s.position
  LOOP
    IF tasker.transition_step(step.step_uuid, step.state, 'enqueued', jsonb_build_object('attempt', step.attempts + 1)) THEN
      messages := messages || jsonb_build_object('task_uuid', p_task, 'step_uuid', step.step_uuid, 'step_name', step.name);
    END IF;
  END LOOP;
  RETURN messages;
END;
$$;

-- pgmq's functions build their SQL from the queue name, so PostgreSQL parses and plans it on
-- every call (0.1–0.4 ms, more than the work of a small read or insert). For the queues the
-- engine uses on every step (the step results queue and each worker queue), it creates once per
-- queue four functions whose statements name that queue's tables, planned once per session:
--   tasker.send__<queue>(msgs jsonb[], headers jsonb[])   insert (headers may be null) + NOTIFY
--     (0008_event_routing.sql adds a delay and returns the new ids)
--   tasker.read__<queue>(vt integer, qty integer)          the oldest visible messages, hidden vt s
--   tasker.archive__<queue>(ids bigint[])                  moved to the archive table
--   tasker.hide__<queue>(ids bigint[], secs integer[])     vt = now + secs, per message
-- They do what pgmq 1.5's send_batch (with our NOTIFY convention), read, archive and set_vt do,
-- on its table layout, the same on the extension and on the bundled SQL, so any pgmq client still
-- reads and writes these queues. (pgmq 1.10 and later also keep a nullable last_read_at, which
-- these leave null, also in the archive.) Callers name them through tasker.queue_function.
CREATE FUNCTION tasker.create_queue_statements(p_queue text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  q text := 'q_' || p_queue;
BEGIN
  IF p_queue !~ '^[a-z][a-z0-9_]{0,46}$' THEN
    RAISE EXCEPTION 'invalid queue name %', p_queue USING ERRCODE = 'invalid_name';
  END IF;
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_msgs jsonb[], p_headers jsonb[])
    RETURNS void LANGUAGE plpgsql AS $b$
    BEGIN
      IF cardinality(p_headers) <> cardinality(p_msgs) THEN
        RAISE EXCEPTION '%% headers for %% messages; give one per message or none',
          cardinality(p_headers), cardinality(p_msgs) USING ERRCODE = 'invalid_parameter_value';
      END IF;
      INSERT INTO pgmq.%2$I (vt, message, headers)
      SELECT clock_timestamp(), u.m, u.h FROM unnest(p_msgs, p_headers) AS u(m, h);
      PERFORM pg_notify(%3$L, '');
    END $b$ $f$, 'send__' || p_queue, q, 'pgmq_' || p_queue);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_vt integer, p_qty integer)
    RETURNS TABLE (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb)
    LANGUAGE plpgsql AS $b$
    #variable_conflict use_column
    BEGIN
      RETURN QUERY
      WITH picked AS (
        SELECT x.msg_id FROM pgmq.%2$I x
         WHERE x.vt <= clock_timestamp() ORDER BY x.msg_id LIMIT p_qty FOR UPDATE SKIP LOCKED
      )
      UPDATE pgmq.%2$I m
         SET vt = clock_timestamp() + make_interval(secs => p_vt), read_ct = m.read_ct + 1
        FROM picked WHERE m.msg_id = picked.msg_id
      RETURNING m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers;
    END $b$ $f$, 'read__' || p_queue, q);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_ids bigint[])
    RETURNS void LANGUAGE plpgsql AS $b$
    BEGIN
      WITH moved AS (
        DELETE FROM pgmq.%2$I WHERE msg_id = ANY (p_ids)
        RETURNING msg_id, vt, read_ct, enqueued_at, message, headers
      )
      INSERT INTO pgmq.%3$I (msg_id, vt, read_ct, enqueued_at, message, headers)
      SELECT msg_id, vt, read_ct, enqueued_at, message, headers FROM moved;
    END $b$ $f$, 'archive__' || p_queue, q, 'a_' || p_queue);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_ids bigint[], p_secs integer[])
    RETURNS void LANGUAGE plpgsql AS $b$
    BEGIN
      UPDATE pgmq.%2$I q SET vt = clock_timestamp() + make_interval(secs => c.secs)
        FROM unnest(p_ids, p_secs) AS c(id, secs) WHERE q.msg_id = c.id;
    END $b$ $f$, 'hide__' || p_queue, q);
END;
$$;

-- The qualified name of one of a queue's statement functions (op: send, read, archive, hide),
-- creating the queue's set if it is missing (ensureNamespaceQueues and the migrations create them
-- ahead, so this is a fallback). Creators of one queue's set take turns on an advisory lock of
-- that queue, and the one that finds the set made while it waited leaves it alone.
CREATE FUNCTION tasker.queue_function(p_op text, p_queue text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  fn text := format('tasker.%I', p_op || '__' || p_queue);
BEGIN
  IF p_op NOT IN ('send', 'read', 'archive', 'hide') THEN
    RAISE EXCEPTION 'unknown queue statement %', p_op USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_regproc(fn) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('tasker.queue_statements:' || p_queue));
    IF to_regproc(fn) IS NULL THEN
      PERFORM tasker.create_queue_statements(p_queue);
    END IF;
  END IF;
  RETURN fn;
END;
$$;

-- pgmq.read through a queue's statement function, for clients (the orchestrator's reads).
CREATE FUNCTION tasker.read_queue(p_queue text, p_vt integer, p_qty integer)
RETURNS TABLE (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT * FROM %s($1, $2)', tasker.queue_function('read', p_queue))
    USING p_vt, p_qty;
END;
$$;

-- The orchestration queues' sets; the step results' is called statically by the functions below.
SELECT tasker.create_queue_statements('orchestration_step_results');
SELECT tasker.create_queue_statements('orchestration_task_requests');

-- A worker's claim of a step for one attempt, for the message p_msg_id of p_queue:
--   enqueued     → in_progress, attempts + 1, an attempt row. Returns {outcome: claimed,
--                  step: {...}}; the caller hides the message for the step's timeout.
--   in_progress  → its previous worker died: that attempt is recorded as lost and reported to the
--                  orchestrators as a failure; the message is archived. {outcome: lost, ...}.
--   anything else → the message is stale and archived. {outcome: stale}.
CREATE FUNCTION tasker.claim_step(p_step uuid, p_worker text, p_queue text, p_msg_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  s record;
  lost_error jsonb;
  next_attempt integer;
BEGIN
  SELECT ws.step_uuid, ws.name, ws.state, ws.attempts, ws.handler_callable, ws.handler_initialization,
         ws.timeout_seconds, t.task_uuid, t.namespace, t.name AS task_name, t.version, t.correlation_id, t.context
    INTO s
    FROM tasker.workflow_steps ws JOIN tasker.tasks t ON t.task_uuid = ws.task_uuid
   WHERE ws.step_uuid = p_step
     FOR UPDATE OF ws;
  IF NOT FOUND THEN
    PERFORM pgmq.archive(p_queue, p_msg_id);
    RETURN jsonb_build_object('outcome', 'stale');
  END IF;

  IF s.state = 'in_progress' THEN
    lost_error := jsonb_build_object(
      'name', 'WorkerLost',
      'message', format('attempt %s was lost: its worker stopped before reporting a result', s.attempts),
      'permanent', false);
    UPDATE tasker.step_attempts SET outcome = 'lost', error = lost_error, finished_at = now()
     WHERE step_uuid = p_step AND attempt = s.attempts AND outcome = 'running';
    UPDATE tasker.workflow_steps SET error = lost_error WHERE step_uuid = p_step;
    PERFORM tasker.transition_step(p_step, 'in_progress', 'enqueued_as_error_for_orchestration',
                                   jsonb_build_object('attempt', s.attempts, 'lost', true));
    PERFORM tasker.send__orchestration_step_results(ARRAY[
      jsonb_build_object('task_uuid', s.task_uuid, 'step_uuid', p_step, 'attempt', s.attempts)], NULL);
    PERFORM pgmq.archive(p_queue, p_msg_id);
    RETURN jsonb_build_object('outcome', 'lost', 'step_name', s.name, 'attempt', s.attempts);
  END IF;

  IF s.state <> 'enqueued' THEN
    PERFORM pgmq.archive(p_queue, p_msg_id);
    RETURN jsonb_build_object('outcome', 'stale');
  END IF;

  next_attempt := s.attempts + 1;
  UPDATE tasker.workflow_steps SET attempts = next_attempt WHERE step_uuid = p_step;
  PERFORM tasker.transition_step(p_step, 'enqueued', 'in_progress',
                                 jsonb_build_object('attempt', next_attempt, 'worker', p_worker));
  INSERT INTO tasker.step_attempts (step_uuid, attempt, outcome, worker_id)
  VALUES (p_step, next_attempt, 'running', p_worker);
  RETURN jsonb_build_object(
    'outcome', 'claimed',
    'step', jsonb_build_object(
      'step_uuid', s.step_uuid,
      'step_name', s.name,
      'attempt', next_attempt,
      'handler_callable', s.handler_callable,
      'handler_initialization', s.handler_initialization,
      'timeout_seconds', s.timeout_seconds,
      'task_uuid', s.task_uuid,
      'namespace', s.namespace,
      'task_name', s.task_name,
      'version', s.version,
      'correlation_id', s.correlation_id,
      'context', s.context,
      'dependency_results', (
        SELECT coalesce(jsonb_object_agg(p.name, p.result), '{}'::jsonb)
          FROM tasker.workflow_step_edges e JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step_uuid
         -- The task_uuid condition keeps the plan on an index even when the cached plan was
         -- made before the tables had statistics (a join on step_uuid alone then seq-scans).
         WHERE e.to_step_uuid = p_step AND p.task_uuid = s.task_uuid)));
END;
$$;

-- Records the outcome of attempt p_attempt and moves the step on to the orchestrators.
-- Fenced by the attempt number: returns the step's task, or null when that attempt was already
-- written off or its task cancelled. tasker.report_attempts sends and archives the messages.
CREATE FUNCTION tasker.report_attempt(
  p_step uuid, p_attempt integer, p_ok boolean, p_result jsonb, p_error jsonb)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  owner uuid;
BEGIN
  UPDATE tasker.workflow_steps SET result = p_result, error = p_error
   WHERE step_uuid = p_step AND attempts = p_attempt AND state = 'in_progress'
  RETURNING task_uuid INTO owner;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM tasker.transition_step(
    p_step, 'in_progress',
    CASE WHEN p_ok THEN 'enqueued_for_orchestration' ELSE 'enqueued_as_error_for_orchestration' END,
    jsonb_build_object('attempt', p_attempt));
  UPDATE tasker.step_attempts
     SET outcome = CASE WHEN p_ok THEN 'success' ELSE 'failure' END,
         result = p_result, error = p_error, finished_at = now()
   WHERE step_uuid = p_step AND attempt = p_attempt;
  RETURN owner;
END;
$$;

-- A step's outcome as judged by the orchestrator, with its retry time when it will be retried.
CREATE FUNCTION tasker.settle_step(p_step uuid, p_from text, p_to text, p_retry_in_ms integer, p_metadata jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_retry_in_ms IS NOT NULL THEN
    UPDATE tasker.workflow_steps SET next_attempt_at = now() + p_retry_in_ms * interval '1 millisecond'
     WHERE step_uuid = p_step;
  END IF;
  RETURN tasker.transition_step(p_step, p_from, p_to, p_metadata);
END;
$$;

-- A worker's read of its queue and the claim of every step read, in one statement: each row
-- is one message read from p_queue with what tasker.claim_step made of it. The messages of
-- claimed steps are hidden until each step's timeout + p_vt_margin seconds, in one UPDATE.
CREATE FUNCTION tasker.read_and_claim_steps(
  p_queue text, p_qty integer, p_read_vt integer, p_worker text, p_vt_margin integer)
RETURNS TABLE (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, headers jsonb, claim jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  m record;
  claimed_ids bigint[] := '{}';
  claimed_secs integer[] := '{}';
BEGIN
  FOR m IN EXECUTE format('SELECT * FROM %s($1, $2)', tasker.queue_function('read', p_queue))
             USING p_read_vt, p_qty LOOP
    msg_id := m.msg_id;
    read_ct := m.read_ct;
    enqueued_at := m.enqueued_at;
    headers := m.headers;
    claim := tasker.claim_step((m.message->>'step_uuid')::uuid, p_worker, p_queue, m.msg_id);
    vt := m.vt;
    IF claim->>'outcome' = 'claimed' THEN
      claimed_ids := claimed_ids || m.msg_id;
      claimed_secs := claimed_secs || ((claim->'step'->>'timeout_seconds')::integer + p_vt_margin);
      vt := clock_timestamp() + make_interval(secs => claimed_secs[array_length(claimed_secs, 1)]);
    END IF;
    RETURN NEXT;
  END LOOP;
  IF array_length(claimed_ids, 1) > 0 THEN
    EXECUTE format('SELECT %s($1, $2)', tasker.queue_function('hide', p_queue))
    USING claimed_ids, claimed_secs;
  END IF;
END;
$$;

-- Reports a group of outcomes (a worker's group commit), each {step_uuid, attempt, ok, result,
-- error, queue, msg_id}: records each (tasker.report_attempt), sends the recorded ones to the
-- orchestrators in one batch with one NOTIFY, and archives every worker message, one statement
-- per worker queue. Returns one boolean per outcome: false when the attempt had been written off.
CREATE FUNCTION tasker.report_attempts(p_reports jsonb)
RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  owner uuid;
  reported boolean[] := '{}';
  results jsonb[] := '{}';
  worker_queue text;
BEGIN
  FOR r IN SELECT * FROM jsonb_array_elements(p_reports) LOOP
    owner := tasker.report_attempt(
      (r->>'step_uuid')::uuid, (r->>'attempt')::integer, (r->>'ok')::boolean,
      CASE WHEN (r->>'ok')::boolean THEN coalesce(r->'result', 'null'::jsonb) END,
      CASE WHEN (r->>'ok')::boolean THEN NULL ELSE r->'error' END);
    reported := reported || (owner IS NOT NULL);
    IF owner IS NOT NULL THEN
      results := results || jsonb_build_object('task_uuid', owner, 'step_uuid', r->>'step_uuid',
                                               'attempt', (r->>'attempt')::integer);
    END IF;
  END LOOP;
  IF array_length(results, 1) > 0 THEN
    PERFORM tasker.send__orchestration_step_results(results, NULL);
  END IF;
  FOR worker_queue IN SELECT DISTINCT e->>'queue' FROM jsonb_array_elements(p_reports) e LOOP
    EXECUTE format('SELECT %s($1)', tasker.queue_function('archive', worker_queue)) USING ARRAY(
      SELECT (e->>'msg_id')::bigint FROM jsonb_array_elements(p_reports) e WHERE e->>'queue' = worker_queue);
  END LOOP;
  RETURN reported;
END;
$$;
