-- The orchestrators' two queues exist from the start; worker and event queues are created
-- with their namespace.
SELECT pgmq.create('orchestration_task_requests');
SELECT pgmq.create('orchestration_step_results');
