-- Durable event routing in one function call, on the queues' own statement functions.
--
-- The router used to send one generated statement per batch, which pgmq's dynamic functions
-- (read, send_batch, archive) planned again on every call: about 1 ms of server time to route a
-- few events, the largest share of a durable event's latency. tasker.read_and_route_events does
-- the same work with statements PostgreSQL plans once per session.

-- A queue's read function picks its messages by id array (see the comment in it): it was
-- planned, on a queue with a backlog, as a join that scanned the whole queue on every read.
--
-- A queue's send function now takes a delay and returns the new ids (for the router's claimed
-- copies). It NOTIFYs only when the messages are visible at once: a delayed message has nobody
-- to wake yet. Calls with two arguments (claim_step, report_attempts, orchestrate) are unchanged.
CREATE OR REPLACE FUNCTION tasker.create_queue_statements(p_queue text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  q text := 'q_' || p_queue;
BEGIN
  IF p_queue !~ '^[a-z][a-z0-9_]{0,46}$' THEN
    RAISE EXCEPTION 'invalid queue name %', p_queue USING ERRCODE = 'invalid_name';
  END IF;
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_msgs jsonb[], p_headers jsonb[], p_delay integer DEFAULT 0)
    RETURNS SETOF bigint LANGUAGE plpgsql AS $b$
    BEGIN
      IF cardinality(p_headers) <> cardinality(p_msgs) THEN
        RAISE EXCEPTION '%% headers for %% messages; give one per message or none',
          cardinality(p_headers), cardinality(p_msgs) USING ERRCODE = 'invalid_parameter_value';
      END IF;
      RETURN QUERY
      INSERT INTO pgmq.%2$I (vt, message, headers)
      SELECT clock_timestamp() + make_interval(secs => p_delay), u.m, u.h
        FROM unnest(p_msgs, p_headers) AS u(m, h)
      RETURNING msg_id;
      IF p_delay = 0 THEN
        PERFORM pg_notify(%3$L, '');
      END IF;
    END $b$ $f$, 'send__' || p_queue, q, 'pgmq_' || p_queue);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_vt integer, p_qty integer)
    RETURNS TABLE (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb)
    LANGUAGE plpgsql AS $b$
    #variable_conflict use_column
    BEGIN
      -- = ANY(ARRAY(...)), not a join with the picked rows: a join may be planned as a hash
      -- join over a sequential scan of the whole queue, milliseconds once a backlog builds up.
      RETURN QUERY
      UPDATE pgmq.%2$I m
         SET vt = clock_timestamp() + make_interval(secs => p_vt), read_ct = m.read_ct + 1
       WHERE m.msg_id = ANY (ARRAY(
               SELECT x.msg_id FROM pgmq.%2$I x
                WHERE x.vt <= clock_timestamp() ORDER BY x.msg_id LIMIT p_qty FOR UPDATE SKIP LOCKED))
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

-- Every queue that has statement functions gets the new set: the old send function (two
-- arguments, no result) is dropped first, since a function's result type cannot be replaced.
DO $$
DECLARE
  old record;
BEGIN
  FOR old IN
    SELECT p.oid::regprocedure AS fn, substr(p.proname, length('send__') + 1) AS queue
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'tasker' AND p.proname LIKE 'send\_\_%' AND p.pronargs = 2
  LOOP
    EXECUTE format('DROP FUNCTION %s', old.fn);
    PERFORM tasker.create_queue_statements(old.queue);
  END LOOP;
END;
$$;

-- pgmq.archive of several ids through a queue's archive function (durable and acknowledged
-- subscribers archiving what they handled, the router archiving what it routed).
CREATE FUNCTION tasker.archive_queue(p_queue text, p_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT %s($1)', tasker.queue_function('archive', p_queue)) USING p_ids;
END;
$$;

-- pgmq.send_batch through a queue's send function, for clients (the domain events outbox): the
-- new ids, with the queue's NOTIFY when the messages are visible at once.
CREATE FUNCTION tasker.send_queue(p_queue text, p_msgs jsonb[], p_headers jsonb[], p_delay integer DEFAULT 0)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT * FROM %s($1, $2, $3)', tasker.queue_function('send', p_queue))
    USING p_msgs, p_headers, p_delay;
END;
$$;

-- Reads up to p_qty events of a namespace queue (p_source), hiding them p_vt seconds, and, when
-- the namespace's subscriptions are still the ones the caller matched against (p_fingerprint,
-- see routing-statement.ts), copies each event into the queue of every subscription whose
-- pattern's regular expression matches '.' || name, and archives the events read. Copy set i
-- goes to p_queues[i] with the extra headers p_headers[i] merged over the event's own, hidden
-- p_delays[i] seconds (a local consumer's claim; 0: visible at once, with a NOTIFY). All or
-- nothing: one call is one statement. Returns {ok, messages, ids, sources}: ok false means
-- nothing was copied or archived; messages are the events read; ids[i] the new copies' ids and
-- sources[i] the ids of the events they copy, in the same order.
CREATE FUNCTION tasker.read_and_route_events(
  p_namespace text, p_fingerprint text, p_source text, p_vt integer, p_qty integer,
  p_queues text[], p_regexes text[], p_headers jsonb[], p_delays integer[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  current_subscriptions boolean;
  read_ids bigint[];
  read_bodies jsonb[];
  read_headers jsonb[];
  read_messages jsonb;
  copy_ids jsonb := '[]';
  copy_sources jsonb := '[]';
  matched_ids bigint[];
  matched_bodies jsonb[];
  matched_headers jsonb[];
  new_ids bigint[];
BEGIN
  SELECT array_agg(m.msg_id ORDER BY m.msg_id), array_agg(m.message ORDER BY m.msg_id),
         array_agg(coalesce(m.headers, '{}') ORDER BY m.msg_id),
         coalesce(jsonb_agg(jsonb_build_object('msg_id', m.msg_id, 'read_ct', m.read_ct,
           'enqueued_at', m.enqueued_at, 'vt', m.vt, 'message', m.message, 'headers', m.headers)
           ORDER BY m.msg_id), '[]')
    INTO read_ids, read_bodies, read_headers, read_messages
    FROM tasker.read_queue(p_source, p_vt, p_qty) AS m;
  -- Checked after the read, so every subscription committed before the messages were read is
  -- compared (a NULL fingerprint never matches).
  SELECT coalesce(string_agg(subscriber_id || chr(31) || pattern || chr(31) || queue_name, chr(30)
                             ORDER BY subscriber_id), '') = p_fingerprint
    INTO current_subscriptions
    FROM tasker.event_subscriptions WHERE namespace = p_namespace;
  IF read_ids IS NULL OR current_subscriptions IS NOT TRUE THEN
    RETURN jsonb_build_object('ok', current_subscriptions IS TRUE, 'messages', read_messages, 'ids', '[]'::jsonb,
                              'sources', '[]'::jsonb);
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_queues), 0) LOOP
    SELECT array_agg(u.id ORDER BY u.n), array_agg(u.body ORDER BY u.n), array_agg(u.h || p_headers[i] ORDER BY u.n)
      INTO matched_ids, matched_bodies, matched_headers
      FROM unnest(read_ids, read_bodies, read_headers) WITH ORDINALITY AS u(id, body, h, n)
     WHERE ('.' || (u.body->>'name')) ~ p_regexes[i];
    new_ids := NULL;
    IF matched_ids IS NOT NULL THEN
      -- Ids come from the queue's sequence in insertion order: sorted, they pair with sources.
      SELECT array_agg(id ORDER BY id) INTO new_ids
        FROM tasker.send_queue(p_queues[i], matched_bodies, matched_headers, p_delays[i]) AS id;
    END IF;
    copy_ids := copy_ids || jsonb_build_array(coalesce(to_jsonb(new_ids), '[]'::jsonb));
    copy_sources := copy_sources || jsonb_build_array(coalesce(to_jsonb(matched_ids), '[]'::jsonb));
  END LOOP;
  PERFORM tasker.archive_queue(p_source, read_ids);
  RETURN jsonb_build_object('ok', true, 'messages', read_messages, 'ids', copy_ids, 'sources', copy_sources);
END;
$$;

-- Drops a queue's statement functions, with the queue whose tables they name (a retired
-- subscription's queue).
CREATE FUNCTION tasker.drop_queue_statements(p_queue text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_queue !~ '^[a-z][a-z0-9_]{0,46}$' THEN
    RAISE EXCEPTION 'invalid queue name %', p_queue USING ERRCODE = 'invalid_name';
  END IF;
  EXECUTE format('DROP FUNCTION IF EXISTS tasker.%I(jsonb[], jsonb[], integer)', 'send__' || p_queue);
  EXECUTE format('DROP FUNCTION IF EXISTS tasker.%I(integer, integer)', 'read__' || p_queue);
  EXECUTE format('DROP FUNCTION IF EXISTS tasker.%I(bigint[])', 'archive__' || p_queue);
  EXECUTE format('DROP FUNCTION IF EXISTS tasker.%I(bigint[], integer[])', 'hide__' || p_queue);
END;
$$;

