-- Workers' claims and reports.
--
-- Claim tokens. A claim is a write on every step's path; it waited for its WAL flush because a
-- server crash that undid it would let the next claim of the step reuse its attempt number, and
-- the first handler's late report would then be taken for the second's. Each claim now draws a
-- token that its report must bring back: a report of an undone claim matches no attempt and is
-- refused like any written-off attempt, so the claim commits without waiting for the flush. The
-- step runs again, at least once as always; its report commits synchronously and so flushes the
-- claim before anything depends on it.
--
-- Orchestration by the reporting worker. A step used to pass through two queues (the worker's,
-- then orchestration_step_results), each a commit, a NOTIFY and a wake-up of another process. A
-- worker that can lock the step's task now takes the orchestrator's next decision itself, in the
-- transaction of its report (tasker.report_attempts); the orchestrators get the rest.

ALTER TABLE tasker.step_attempts ADD COLUMN claim_id uuid NOT NULL DEFAULT gen_random_uuid();

-- A step's move into its history, for callers that changed the row's state themselves, in the
-- same UPDATE as its other columns. Updating a row twice in one transaction makes PostgreSQL check
-- its foreign key again (a KEY SHARE lock on the task), which waits for an orchestrator holding the
-- task; workers claim and report with one UPDATE per step so that they never wait for one.
CREATE FUNCTION tasker.record_step_transition(p_step uuid, p_task uuid, p_from text, p_to text, p_metadata jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  next_key integer;
BEGIN
  UPDATE tasker.step_transitions SET most_recent = false WHERE step_uuid = p_step AND most_recent
  RETURNING sort_key + 1 INTO next_key;
  INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, metadata, sort_key, most_recent)
  VALUES (p_step, p_task, p_from, p_to, p_metadata, coalesce(next_key, 1), true);
END;
$$;

-- As in 0006, returning the claim's token with the step, and moving the step with one UPDATE
-- (a lost attempt's too).
CREATE OR REPLACE FUNCTION tasker.claim_step(p_step uuid, p_worker text, p_queue text, p_msg_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  s record;
  lost_error jsonb;
  next_attempt integer;
  claim uuid;
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
    UPDATE tasker.workflow_steps
       SET error = lost_error, state = 'enqueued_as_error_for_orchestration', updated_at = now()
     WHERE step_uuid = p_step;
    PERFORM tasker.record_step_transition(p_step, s.task_uuid, 'in_progress', 'enqueued_as_error_for_orchestration',
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
  -- The row is locked and enqueued (above): the move cannot fail.
  UPDATE tasker.workflow_steps SET state = 'in_progress', attempts = next_attempt, updated_at = now()
   WHERE step_uuid = p_step;
  PERFORM tasker.record_step_transition(p_step, s.task_uuid, 'enqueued', 'in_progress',
                                        jsonb_build_object('attempt', next_attempt, 'worker', p_worker));
  INSERT INTO tasker.step_attempts (step_uuid, attempt, outcome, worker_id)
  VALUES (p_step, next_attempt, 'running', p_worker)
  RETURNING claim_id INTO claim;
  RETURN jsonb_build_object(
    'outcome', 'claimed',
    'step', jsonb_build_object(
      'step_uuid', s.step_uuid,
      'claim_id', claim,
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

-- Records the outcome of attempt p_attempt, claimed with p_claim, and moves the step on to the
-- orchestrators, with one UPDATE of the step (see tasker.record_step_transition). Fenced by the attempt number and its claim's token: returns the step's task, or
-- null when that attempt was written off, its claim undone by a crash, or its task cancelled.
DROP FUNCTION tasker.report_attempt(uuid, integer, boolean, jsonb, jsonb);
CREATE FUNCTION tasker.report_attempt(
  p_step uuid, p_attempt integer, p_claim uuid, p_ok boolean, p_result jsonb, p_error jsonb)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  owner uuid;
  to_state text := CASE WHEN p_ok THEN 'enqueued_for_orchestration' ELSE 'enqueued_as_error_for_orchestration' END;
BEGIN
  UPDATE tasker.workflow_steps ws
     SET result = p_result, error = p_error, state = to_state, updated_at = now()
   WHERE ws.step_uuid = p_step AND ws.attempts = p_attempt AND ws.state = 'in_progress'
     AND EXISTS (SELECT FROM tasker.step_attempts a
                  WHERE a.step_uuid = p_step AND a.attempt = p_attempt AND a.claim_id = p_claim)
  RETURNING ws.task_uuid INTO owner;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM tasker.record_step_transition(p_step, owner, 'in_progress', to_state, jsonb_build_object('attempt', p_attempt));
  UPDATE tasker.step_attempts
     SET outcome = CASE WHEN p_ok THEN 'success' ELSE 'failure' END,
         result = p_result, error = p_error, finished_at = now()
   WHERE step_uuid = p_step AND attempt = p_attempt;
  RETURN owner;
END;
$$;

-- Reports a group of outcomes (a worker's group commit), each {step_uuid, attempt, claim_id, ok,
-- result, error, queue, msg_id}: records each (tasker.report_attempt) and archives every worker
-- message, one statement per worker queue. With p_orchestrate, the recorded results are
-- orchestrated at once, in this transaction (tasker.orchestrate with SKIP LOCKED: what an
-- orchestrator would do with them next, without the hop through the step results queue); the
-- results of tasks another transaction holds, and every result without p_orchestrate, go to the
-- orchestrators in one batch with one NOTIFY. Returns {reported, outcomes}, one entry per report
-- in each: false when the attempt had been written off; tasker.orchestrate's outcome, or null
-- when the result was left to the orchestrators.
DROP FUNCTION tasker.report_attempts(jsonb);
CREATE FUNCTION tasker.report_attempts(p_reports jsonb, p_orchestrate boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  owner uuid;
  n integer;
  reported boolean[] := '{}';
  items jsonb := '[]';
  positions integer[] := '{}';
  outcomes jsonb := '[]';
  orchestrated jsonb;
  queued jsonb[] := '{}';
  worker_queue text;
BEGIN
  reported := array_fill(false, ARRAY[jsonb_array_length(p_reports)]);
  outcomes := coalesce((SELECT jsonb_agg(NULL::jsonb) FROM jsonb_array_elements(p_reports)), '[]');
  -- Steps are locked in uuid order, as an operator's cancel locks them: no deadlock between the two.
  FOR r, n IN SELECT e, ord FROM jsonb_array_elements(p_reports) WITH ORDINALITY AS x(e, ord)
               ORDER BY e->>'step_uuid' LOOP
    owner := tasker.report_attempt(
      (r->>'step_uuid')::uuid, (r->>'attempt')::integer, (r->>'claim_id')::uuid, (r->>'ok')::boolean,
      CASE WHEN (r->>'ok')::boolean THEN coalesce(r->'result', 'null'::jsonb) END,
      CASE WHEN (r->>'ok')::boolean THEN NULL ELSE r->'error' END);
    reported[n] := owner IS NOT NULL;
    IF owner IS NOT NULL THEN
      items := items || jsonb_build_array(jsonb_build_object(
        'kind', 'result', 'task_uuid', owner, 'step_uuid', r->>'step_uuid', 'attempt', (r->>'attempt')::integer));
      positions := positions || n;
    END IF;
  END LOOP;
  IF p_orchestrate AND jsonb_array_length(items) > 0 THEN
    -- The orchestration's history gets a time of its own, taken once it holds its tasks
    -- (tasker.transition_time, 0009): the reports' time was taken before.
    PERFORM set_config('tasker.transition_time', '', true);
    orchestrated := tasker.orchestrate(items, true, NULL, '{}');
  END IF;
  FOR i IN 0 .. jsonb_array_length(items) - 1 LOOP
    IF orchestrated IS NOT NULL AND orchestrated->i <> 'null'::jsonb THEN
      outcomes := jsonb_set(outcomes, ARRAY[(positions[i + 1] - 1)::text], orchestrated->i);
    ELSE
      queued := queued || ((items->i) - 'kind');
    END IF;
  END LOOP;
  IF array_length(queued, 1) > 0 THEN
    PERFORM tasker.send__orchestration_step_results(queued, NULL);
  END IF;
  FOR worker_queue IN SELECT DISTINCT e->>'queue' FROM jsonb_array_elements(p_reports) e LOOP
    EXECUTE format('SELECT %s($1)', tasker.queue_function('archive', worker_queue)) USING ARRAY(
      SELECT (e->>'msg_id')::bigint FROM jsonb_array_elements(p_reports) e WHERE e->>'queue' = worker_queue);
  END LOOP;
  RETURN jsonb_build_object('reported', to_jsonb(reported), 'outcomes', outcomes);
END;
$$;

