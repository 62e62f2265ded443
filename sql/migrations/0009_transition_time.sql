-- The times a task's history is written at order it: its telemetry span is rebuilt from them.
--
-- now() is the start of the transaction, taken before it waits for a task's row lock. Two
-- orchestrators (or two batches of one) that queue on one task could therefore write the later
-- history with the earlier time, and the span would show a step result after the step that
-- depended on it. A transaction now stamps its history with the moment it first writes any:
-- after the locks it waits for, before it commits, the same for everything it writes (the span
-- breaks ties by the engine's order within a transaction).

-- SQL functions, so that PostgreSQL inlines them into the statements that use them: a call costs
-- about a third of a plpgsql one, and every history row makes one. The stamp is kept as ISO 8601
-- in UTC: timestamptz's own text form follows the session's DateStyle and TimeZone, and some of
-- those (an 'IST' zone abbreviation) do not read back as the same instant.
CREATE FUNCTION tasker.stamp_transition_time() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT set_config('tasker.transition_time',
                    to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                    true)::timestamptz
$$;

-- The transaction's stamp, taken on its first call. The setting is local to the transaction:
-- PostgreSQL resets it (to '') at commit or rollback.
CREATE FUNCTION tasker.transition_time() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(nullif(current_setting('tasker.transition_time', true), '')::timestamptz,
                  tasker.stamp_transition_time())
$$;

ALTER TABLE tasker.tasks ALTER COLUMN created_at SET DEFAULT tasker.transition_time();
ALTER TABLE tasker.tasks ALTER COLUMN updated_at SET DEFAULT tasker.transition_time();
ALTER TABLE tasker.task_transitions ALTER COLUMN created_at SET DEFAULT tasker.transition_time();
ALTER TABLE tasker.step_transitions ALTER COLUMN created_at SET DEFAULT tasker.transition_time();

-- As in 0006, with the task's updated_at and completed_at taken from tasker.transition_time().
CREATE OR REPLACE FUNCTION tasker.transition_task_path(p_task uuid, p_path text[], p_metadata jsonb[])
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
         updated_at = tasker.transition_time(),
         completed_at = CASE WHEN final IN ('complete', 'error', 'cancelled', 'resolved_manually')
                             THEN tasker.transition_time() END
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
