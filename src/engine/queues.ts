/**
 * Names of the PGMQ queues the engine talks through. Orchestrators read the two
 * `orchestration_*` queues; workers read their namespaces' `worker_<namespace>_queue`.
 */

/** Task creation requests, read by orchestrators. */
export const TASK_REQUESTS_QUEUE = 'orchestration_task_requests';
/**
 * Step outcomes reported by workers, read by orchestrators. The engine's SQL names it too, in
 * static calls of its statement functions (tasker.send__orchestration_step_results in
 * sql/migrations/0006_hot_paths.sql): rename all together.
 */
export const STEP_RESULTS_QUEUE = 'orchestration_step_results';

/** The queue a namespace's workers read steps from. */
export function workerQueue(namespace: string): string {
  return `worker_${namespace}_queue`;
}

/** Body of a message on {@link TASK_REQUESTS_QUEUE}. */
export interface TaskRequestMessage {
  task_uuid: string;
}

/** Body of a message on {@link STEP_RESULTS_QUEUE}: which attempt finished. */
export interface StepResultMessage {
  task_uuid: string;
  step_uuid: string;
  attempt: number;
}

/** The durable queue of a namespace's domain events (spec 2.5). */
export function domainEventsQueue(namespace: string): string {
  return `${namespace}_domain_events`;
}

/** Where a namespace's events go after `events.durable.max_delivery_attempts` failures. */
export function deadLetterQueue(namespace: string): string {
  return `${namespace}_domain_events_dlq`;
}
