-- History rows are cheaper to write: clearing a transition's `most_recent` becomes a HOT update.
--
-- Every state change clears `most_recent` on its subject's previous transition and inserts the
-- next. The partial unique indexes on `most_recent` made that update touch every index of the
-- table (an indexed column changed), and with full pages it could not stay on its page. Without
-- them, and with room left on each page, PostgreSQL updates the row in place of its page without
-- new index entries (`npm run bench -- workflow`: about 10% more steps per second, see
-- docs/benchmarks.md). At most one transition per subject is `most_recent` all the same: history
-- is written only in the transaction that creates its subject or after a compare-and-swap on
-- the subject's state row, which serializes the writers of one task or step; the tests check it
-- on every history they persist. The updates find the previous transition through the
-- (subject, sort_key) unique indexes.
DROP INDEX tasker.task_transitions_most_recent_idx;
DROP INDEX tasker.step_transitions_most_recent_idx;

-- Room for the new version of a row on its own page: transitions are updated once (their
-- `most_recent` cleared), attempts once (their outcome). Applies to pages filled from now on.
ALTER TABLE tasker.task_transitions SET (fillfactor = 70);
ALTER TABLE tasker.step_transitions SET (fillfactor = 70);
ALTER TABLE tasker.step_attempts SET (fillfactor = 70);
