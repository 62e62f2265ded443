-- Durable events are routed when they are published, not by a router afterwards.
--
-- The outbox used to write each event to its namespace queue, where a router (in every process
-- that consumes the namespace) read it, copied it into the queue of each matching subscription
-- and archived it: two commits and a NOTIFY hop between publisher and subscriber, about half of
-- a durable event's latency. A namespace's publish function (tasker.publish__<namespace>, made
-- by tasker.ensure_publish_statement with the namespace's queues) routes in the publishing
-- transaction itself: one copy per matching subscription, visible with the NOTIFY of its queue
-- at commit, and the event recorded in the namespace queue's archive (what `tasker events tail`
-- reads) under the namespace queue's own ids.
--
-- The router remains for events that reach the namespace queue itself: those published while
-- the namespace has no subscription yet (they wait there for the first one).

-- The regular expression of a durable subscription's pattern (src/events/domain/patterns.ts),
-- matched against '.' || an event's name: each segment a '.'-prefixed piece, '*' one segment,
-- '#' any number of them. Literal segments are lowercase letters, digits and '_' (patterns are
-- validated before they are registered): nothing to escape. test/events/durable/
-- routing-statement.test.ts checks it against compilePattern on every pattern vector.
CREATE FUNCTION tasker.pattern_regex(p_pattern text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '^' || string_agg(CASE s.segment WHEN '#' THEN '(\.[^.]+)*' WHEN '*' THEN '\.[^.]+'
                                          ELSE '\.' || s.segment END, '' ORDER BY s.n) || '$'
    FROM unnest(string_to_array(p_pattern, '.')) WITH ORDINALITY AS s(segment, n)
$$;

-- Kept with the pattern, whichever version of Tasker registered or refreshed it: what publishers
-- and routers match with.
ALTER TABLE tasker.event_subscriptions
  ADD COLUMN name_regex text GENERATED ALWAYS AS (tasker.pattern_regex(pattern)) STORED;

-- Shared by publishers for the rest of their transaction, taken exclusively by the retirement of
-- a subscription (which drops its queue): a publisher never copies into a queue being dropped.
CREATE FUNCTION tasker.publication_lock_key(p_namespace text)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtextextended('tasker.publish_events:' || p_namespace, 0)
$$;

-- (Re)creates tasker.publish__<namespace>(p_msgs jsonb[], p_headers jsonb[]) RETURNS SETOF bigint:
-- publishes events in the caller's transaction, p_headers[i] being the headers of p_msgs[i], and
-- returns their ids in the namespace queue's id space, in the order of p_msgs. Its statements
-- name the namespace's tables, so PostgreSQL plans them once per connection; only the copies go
-- through tasker.send_queue, since the subscriptions change.
CREATE FUNCTION tasker.create_publish_statement(p_namespace text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  source text := p_namespace || '_domain_events';
BEGIN
  IF source !~ '^[a-z][a-z0-9_]{0,46}$' THEN
    RAISE EXCEPTION 'invalid namespace %', p_namespace USING ERRCODE = 'invalid_name';
  END IF;
  -- The namespace queue's own send function, called statically below.
  PERFORM tasker.queue_function('send', source);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tasker.%1$I(p_msgs jsonb[], p_headers jsonb[])
    RETURNS SETOF bigint LANGUAGE plpgsql AS $b$
    DECLARE
      subscribers text[];
      queues text[];
      regexes text[];
      ids bigint[];
      matched_bodies jsonb[];
      matched_headers jsonb[];
    BEGIN
      IF cardinality(p_headers) IS DISTINCT FROM cardinality(p_msgs) THEN
        RAISE EXCEPTION '%% headers for %% messages; give one per message',
          cardinality(p_headers), cardinality(p_msgs) USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF coalesce(cardinality(p_msgs), 0) = 0 THEN
        RETURN;
      END IF;
      PERFORM pg_advisory_xact_lock_shared(%2$s);
      -- A statement of its own, after the lock: it sees every retirement committed before it.
      SELECT array_agg(subscriber_id ORDER BY subscriber_id), array_agg(queue_name ORDER BY subscriber_id),
             array_agg(name_regex ORDER BY subscriber_id)
        INTO subscribers, queues, regexes
        FROM tasker.event_subscriptions WHERE namespace = %3$L;
      IF subscribers IS NULL THEN
        RETURN QUERY SELECT id FROM tasker.%4$I(p_msgs, p_headers) AS id ORDER BY id;
        RETURN;
      END IF;
      -- Ids come from the namespace queue's sequence in insertion order: sorted, they follow p_msgs.
      WITH logged AS (
        INSERT INTO pgmq.%5$I (msg_id, vt, read_ct, enqueued_at, message, headers)
        SELECT nextval(%6$L), now(), 0, now(), u.m, u.h FROM unnest(p_msgs, p_headers) AS u(m, h)
        RETURNING msg_id)
      SELECT array_agg(msg_id ORDER BY msg_id) INTO ids FROM logged;
      FOR i IN 1 .. cardinality(subscribers) LOOP
        SELECT array_agg(u.m ORDER BY u.n),
               array_agg(u.h || jsonb_build_object('tasker_subscriber', subscribers[i]) ORDER BY u.n)
          INTO matched_bodies, matched_headers
          FROM unnest(p_msgs, p_headers) WITH ORDINALITY AS u(m, h, n)
         WHERE ('.' || (u.m->>'name')) ~ regexes[i];
        -- A subscription retired since this transaction's snapshot was taken (REPEATABLE READ or
        -- SERIALIZABLE keep the one from before the lock) has no queue any more.
        IF matched_bodies IS NOT NULL AND to_regclass(format('pgmq.%%I', 'q_' || queues[i])) IS NOT NULL THEN
          PERFORM tasker.send_queue(queues[i], matched_bodies, matched_headers);
        END IF;
      END LOOP;
      -- Watchers (`tasker events tail`, outbox.ts publishedChannel) wake up; the namespace queue's
      -- channel would wake routers. The copies' header is event-router.ts SUBSCRIBER_HEADER.
      PERFORM pg_notify(%7$L, '');
      RETURN QUERY SELECT unnest(ids);
    END $b$ $f$,
    'publish__' || p_namespace, tasker.publication_lock_key(p_namespace), p_namespace, 'send__' || source,
    'a_' || source, pg_get_serial_sequence(format('pgmq.%I', 'q_' || source), 'msg_id'),
    'tasker_published_' || p_namespace);
END;
$$;

-- Makes the namespace's publish function unless it exists (processes call it at start, with the
-- namespace's queues; two at once must not both create it).
CREATE FUNCTION tasker.ensure_publish_statement(p_namespace text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF to_regproc(format('tasker.%I', 'publish__' || p_namespace)) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('tasker.publish_statement:' || p_namespace));
    IF to_regproc(format('tasker.%I', 'publish__' || p_namespace)) IS NULL THEN
      PERFORM tasker.create_publish_statement(p_namespace);
    END IF;
  END IF;
END;
$$;

-- Namespaces whose queues exist already.
SELECT tasker.create_publish_statement(left(queue_name, -length('_domain_events')))
  FROM pgmq.list_queues()
 WHERE queue_name LIKE '%\_domain\_events';
