-- Claims lock their steps in step_uuid order.
--
-- A worker's read claims each message's step with SELECT … FOR UPDATE, one after the other. In
-- message order, a batch holding two steps of one task could take them in the opposite order to
-- a cancel (cancelTask locks a task's steps in step_uuid order, as tasker.report_attempts does),
-- and the two transactions deadlocked: PostgreSQL aborted one of them. The read now sorts what it
-- read by step before claiming: claims, reports and cancels take a task's steps in one order.
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
