-- Claims lock their steps in step_uuid order.
--
-- A worker's read claims each message's step with SELECT … FOR UPDATE, one after the other. In
-- message order, a batch holding two steps of one task could take them in the opposite order to
-- a cancel (cancelTask locks a task's steps in step_uuid order, as tasker.report_attempts does),
-- and the two transactions deadlocked: PostgreSQL aborted one of them. The read now sorts what it
-- read by step before claiming: claims, reports and cancels take a task's steps in one order.
-- Reports sorted their steps as text (0010), an order the database's collation decides; they
-- now sort them as uuids, as the claims and cancels do.
CREATE OR REPLACE FUNCTION tasker.read_and_claim_steps(
  p_queue text, p_qty integer, p_read_vt integer, p_worker text, p_vt_margin integer)
RETURNS TABLE (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, headers jsonb, claim jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  m record;
  claimed_ids bigint[] := '{}';
  claimed_secs integer[] := '{}';
BEGIN
  FOR m IN EXECUTE format('SELECT r.* FROM %s($1, $2) r ORDER BY (r.message->>''step_uuid'')::uuid, r.msg_id',
                          tasker.queue_function('read', p_queue))
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

CREATE OR REPLACE FUNCTION tasker.report_attempts(p_reports jsonb, p_orchestrate boolean DEFAULT false)
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
  -- Steps are locked in uuid order, as claims and an operator's cancel lock them.
  FOR r, n IN SELECT e, ord FROM jsonb_array_elements(p_reports) WITH ORDINALITY AS x(e, ord)
               ORDER BY (e->>'step_uuid')::uuid LOOP
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
