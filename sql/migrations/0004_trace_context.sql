-- W3C trace context of each task's `task.orchestration` span, chosen when the task is created,
-- so every process that works on the task (orchestrators, workers) joins the same trace and the
-- span can be recorded once the task finishes, whichever orchestrator finishes it.
ALTER TABLE tasker.tasks ADD COLUMN traceparent text;
-- The caller's trace context at creation, if any: the task span's parent.
ALTER TABLE tasker.tasks ADD COLUMN parent_traceparent text;
