-- Orchestration in one statement per batch (the style of pgflow: queue logic in SQL, next to
-- the data). tasker.orchestrate locks the tasks of a batch of items, settles reported step
-- attempts, decides each task's next states from its steps, enqueues what became ready,
-- archives the batch's messages, and returns what it did for telemetry. The transitions it
-- makes are edges of the state machines in src/state/ (tests check every persisted history
-- against them).

-- Milliseconds to wait before retrying after attempt p_attempt failed, capped.
CREATE FUNCTION tasker.retry_delay_ms(p_backoff text, p_base_ms integer, p_max_ms integer, p_attempt integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_backoff
    WHEN 'none' THEN 0
    WHEN 'linear' THEN least(p_max_ms::bigint, p_base_ms::bigint * greatest(p_attempt, 1))::integer
    ELSE least(p_max_ms::numeric, p_base_ms::numeric * power(2::numeric, greatest(p_attempt, 1) - 1))::integer
  END
$$;

-- Decides a task's next states from its steps and writes them, marking ready steps enqueued.
-- The task must be locked by the caller. Returns the evaluation:
-- {decision, changes: [{from, to}], enqueued: [step names], viable, final}, and for the caller
-- to send, outbox: {queue, messages, headers} when steps were enqueued.
CREATE FUNCTION tasker.evaluate_task(p_task uuid, p_from text[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t record;
  path text[] := p_from;
  metadata jsonb[] := array_fill('{}'::jsonb, ARRAY[greatest(array_length(p_from, 1) - 1, 0)]);
  all_done boolean;
  in_flight boolean;
  has_error boolean;
  has_retry boolean;
  viable uuid[];
  viable_names text[];
  decision text;
  state text := p_from[array_length(p_from, 1)];
  changes jsonb := '[]';
  messages jsonb[];
  outbox jsonb := NULL;
BEGIN
  SELECT task_uuid, namespace, traceparent INTO t FROM tasker.tasks WHERE task_uuid = p_task;
  SELECT bool_and(s.state IN ('complete', 'resolved_manually')),
         bool_or(s.state IN ('enqueued', 'in_progress', 'enqueued_for_orchestration',
                             'enqueued_as_error_for_orchestration')),
         bool_or(s.state = 'error'),
         bool_or(s.state = 'waiting_for_retry')
    INTO all_done, in_flight, has_error, has_retry
    FROM tasker.workflow_steps s WHERE s.task_uuid = p_task;
  SELECT coalesce(array_agg(s.step_uuid ORDER BY s.position), '{}'), coalesce(array_agg(s.name ORDER BY s.position), '{}')
    INTO viable, viable_names
    FROM tasker.workflow_steps s
   WHERE s.task_uuid = p_task
     AND (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND s.next_attempt_at <= now()))
     AND NOT EXISTS (
       SELECT 1 FROM tasker.workflow_step_edges e JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step_uuid
        WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually'));

  decision := CASE
    WHEN all_done THEN 'complete'
    WHEN has_error AND in_flight THEN 'blocked'
    WHEN has_error THEN 'fail'
    WHEN array_length(viable, 1) > 0 THEN 'enqueue'
    WHEN in_flight THEN 'waiting_for_dependencies'
    WHEN has_retry THEN 'waiting_for_retry'
    ELSE 'fail' -- only cancelled steps, or pending ones behind them: nothing can ever run
  END;

  IF state NOT IN ('enqueuing_steps', 'evaluating_results') THEN
    path := path || 'evaluating_results'::text; metadata := metadata || '{}'::jsonb; state := 'evaluating_results';
  END IF;
  IF decision = 'enqueue' THEN
    IF state = 'evaluating_results' THEN
      path := path || 'enqueuing_steps'::text; metadata := metadata || '{}'::jsonb;
    END IF;
    messages := tasker.enqueue_steps(p_task, viable);
    outbox := jsonb_build_object(
      'queue', 'worker_' || t.namespace || '_queue',
      'messages', to_jsonb(messages),
      'headers', CASE WHEN t.traceparent IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object('traceparent', t.traceparent) END);
    path := path || 'steps_in_process'::text;
    metadata := metadata || jsonb_build_object('enqueued', to_jsonb(viable_names));
  ELSIF decision = 'fail' THEN
    path := path || ARRAY['blocked_by_failures', 'error']; metadata := metadata || ARRAY['{}'::jsonb, '{}'::jsonb];
  ELSE
    path := path || (CASE decision WHEN 'complete' THEN 'complete' WHEN 'blocked' THEN 'blocked_by_failures'
                                   ELSE decision END);
    metadata := metadata || '{}'::jsonb;
  END IF;

  IF NOT tasker.transition_task_path(p_task, path, metadata) THEN
    RAISE EXCEPTION 'task % changed state under its lock', p_task USING ERRCODE = 'serialization_failure';
  END IF;
  FOR i IN 2 .. array_length(path, 1) LOOP
    changes := changes || jsonb_build_object('from', path[i - 1], 'to', path[i]);
  END LOOP;
  RETURN jsonb_build_object(
    'decision', decision,
    'changes', changes,
    'enqueued', CASE WHEN decision = 'enqueue' THEN to_jsonb(viable_names) ELSE '[]'::jsonb END,
    'viable', coalesce(array_length(viable, 1), 0),
    'final', path[array_length(path, 1)])
    || CASE WHEN outbox IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('outbox', outbox) END;
END;
$$;

-- Orchestrates a batch of items, each {kind: initialize | result | reevaluate, task_uuid,
-- step_uuid, attempt}, and archives messages p_msg_ids of p_queue, all in one statement.
-- Returns one outcome per item, in order (null for a stale item):
--   initialize / reevaluate: {kind, task_uuid, evaluation}
--   result: {kind, task_uuid, namespace, step_name, step_state, attempt, retry_in_ms, error_name, evaluation}
CREATE FUNCTION tasker.orchestrate(p_items jsonb, p_skip_locked boolean, p_queue text, p_msg_ids bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  task_ids uuid[];
  locked jsonb := '{}';
  t record;
  item jsonb;
  s record;
  settled jsonb := '{}';
  evaluated jsonb := '{}';
  starts jsonb := '{}';
  outcome jsonb;
  outcomes jsonb := '[]';
  status text;
  to_state text;
  retry_ms integer;
  evaluation jsonb;
  out_queues text[] := '{}';
  out_messages jsonb[] := '{}';
  out_headers jsonb[] := '{}';
  worker_queue text;
BEGIN
  SELECT array_agg(DISTINCT (i->>'task_uuid')::uuid) INTO task_ids FROM jsonb_array_elements(p_items) i;
  -- Lock in uuid order, so overlapping batches of two orchestrators cannot deadlock.
  -- With p_skip_locked, tasks another orchestrator holds are left for a later pass.
  -- Two static statements rather than one built with format(): static plans are cached.
  IF p_skip_locked THEN
    FOR t IN SELECT k.task_uuid, k.namespace, k.status FROM tasker.tasks k WHERE k.task_uuid = ANY (task_ids)
              ORDER BY k.task_uuid FOR UPDATE SKIP LOCKED LOOP
      locked := locked || jsonb_build_object(t.task_uuid::text, jsonb_build_object('namespace', t.namespace, 'status', t.status));
    END LOOP;
  ELSE
    FOR t IN SELECT k.task_uuid, k.namespace, k.status FROM tasker.tasks k WHERE k.task_uuid = ANY (task_ids)
              ORDER BY k.task_uuid FOR UPDATE LOOP
      locked := locked || jsonb_build_object(t.task_uuid::text, jsonb_build_object('namespace', t.namespace, 'status', t.status));
    END LOOP;
  END IF;

  -- Settle reported attempts (of tasks still running).
  FOR item IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    status := locked->(item->>'task_uuid')->>'status';
    CONTINUE WHEN item->>'kind' <> 'result' OR status IS NULL
      OR status IN ('complete', 'error', 'cancelled', 'resolved_manually');
    SELECT ws.step_uuid, ws.name, ws.state, ws.attempts, ws.error, ws.retryable, ws.max_attempts, ws.backoff,
           ws.backoff_base_ms, ws.max_backoff_ms
      INTO s FROM tasker.workflow_steps ws
     WHERE ws.step_uuid = (item->>'step_uuid')::uuid AND ws.task_uuid = (item->>'task_uuid')::uuid;
    CONTINUE WHEN NOT FOUND OR s.attempts <> (item->>'attempt')::integer;
    retry_ms := NULL;
    IF s.state = 'enqueued_for_orchestration' THEN
      to_state := 'complete';
    ELSIF s.state = 'enqueued_as_error_for_orchestration' THEN
      IF s.retryable AND s.attempts < s.max_attempts AND coalesce((s.error->>'permanent')::boolean, false) = false THEN
        to_state := 'waiting_for_retry';
        retry_ms := tasker.retry_delay_ms(s.backoff, s.backoff_base_ms, s.max_backoff_ms, s.attempts);
      ELSE
        to_state := 'error';
      END IF;
    ELSE
      CONTINUE;
    END IF;
    PERFORM tasker.settle_step(s.step_uuid, s.state, to_state, retry_ms, jsonb_build_object('attempt', s.attempts));
    settled := settled || jsonb_build_object(s.step_uuid::text, jsonb_build_object(
      'step_name', s.name, 'step_state', to_state, 'attempt', s.attempts, 'retry_in_ms', retry_ms,
      'error_name', CASE WHEN to_state = 'complete' THEN NULL ELSE coalesce(s.error->>'name', 'Error') END));
  END LOOP;

  -- Evaluate each task once.
  FOR item IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    status := locked->(item->>'task_uuid')->>'status';
    CONTINUE WHEN status IS NULL OR evaluated ? (item->>'task_uuid');
    evaluation := NULL;
    IF item->>'kind' = 'initialize' AND status = 'pending' THEN
      evaluation := tasker.evaluate_task((item->>'task_uuid')::uuid, ARRAY['pending', 'initializing', 'enqueuing_steps']);
      starts := starts || jsonb_build_object(item->>'task_uuid', true);
    ELSIF (item->>'kind' = 'result' AND settled ? (item->>'step_uuid'))
       OR (item->>'kind' = 'reevaluate'
           AND status IN ('steps_in_process', 'waiting_for_dependencies', 'waiting_for_retry', 'blocked_by_failures')) THEN
      evaluation := tasker.evaluate_task((item->>'task_uuid')::uuid, ARRAY[status]);
    END IF;
    CONTINUE WHEN evaluation IS NULL;
    IF evaluation ? 'outbox' THEN
      FOR i IN 0 .. jsonb_array_length(evaluation->'outbox'->'messages') - 1 LOOP
        out_queues := out_queues || (evaluation->'outbox'->>'queue');
        out_messages := out_messages || (evaluation->'outbox'->'messages'->i);
        out_headers := out_headers || (evaluation->'outbox'->'headers');
      END LOOP;
      evaluation := evaluation - 'outbox';
    END IF;
    evaluated := evaluated || jsonb_build_object(item->>'task_uuid', evaluation);
  END LOOP;

  -- The steps enqueued by the whole batch: one send and one NOTIFY per worker queue.
  FOR worker_queue IN SELECT DISTINCT q FROM unnest(out_queues) AS q LOOP
    EXECUTE format('SELECT %s($1, $2)', tasker.queue_function('send', worker_queue)) USING
      ARRAY(SELECT m FROM unnest(out_queues, out_messages) WITH ORDINALITY AS o(q, m, n)
             WHERE o.q = worker_queue ORDER BY n),
      ARRAY(SELECT h FROM unnest(out_queues, out_headers) WITH ORDINALITY AS o(q, h, n)
             WHERE o.q = worker_queue ORDER BY n);
  END LOOP;

  FOR item IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    outcome := NULL;
    IF evaluated ? (item->>'task_uuid') THEN
      IF item->>'kind' = 'result' THEN
        IF settled ? (item->>'step_uuid') THEN
          outcome := settled->(item->>'step_uuid') || jsonb_build_object(
            'kind', 'result', 'task_uuid', item->>'task_uuid',
            'namespace', locked->(item->>'task_uuid')->>'namespace',
            'evaluation', evaluated->(item->>'task_uuid'));
        END IF;
      ELSIF item->>'kind' = 'reevaluate' OR starts ? (item->>'task_uuid') THEN
        outcome := jsonb_build_object('kind', item->>'kind', 'task_uuid', item->>'task_uuid',
                                      'evaluation', evaluated->(item->>'task_uuid'));
      END IF;
    END IF;
    outcomes := outcomes || coalesce(outcome, 'null'::jsonb);
  END LOOP;

  IF p_queue IS NOT NULL AND array_length(p_msg_ids, 1) > 0 THEN
    EXECUTE format('SELECT %s($1)', tasker.queue_function('archive', p_queue)) USING p_msg_ids;
  END IF;
  RETURN outcomes;
END;
$$;

-- The ready-steps gauge (tasker.steps.ready) counts enqueued steps at each collection.
CREATE INDEX workflow_steps_enqueued_idx ON tasker.workflow_steps (task_uuid) WHERE state = 'enqueued';
