/**
 * What a step handler receives (DESIGN.md "Handler modules"). The first attempt is 1.
 */
export interface StepContext<Context = Record<string, unknown>> {
  /** The task's context, as given when the task was created. */
  context: Context;
  /** Results of the parent steps, by step name. */
  dependencyResults: Record<string, unknown>;
  step: { name: string; uuid: string; attempt: number; initialization: Record<string, unknown> };
  task: { uuid: string; namespace: string; name: string; version: string; correlationId: string };
  /**
   * Publishes a domain event this step declared in `publishes_events`. It is released only
   * once this attempt's result is committed (see docs/events.md).
   */
  publishEvent(name: string, payload: unknown): void;
  /** Aborted when the step's `timeout_seconds` elapse: the attempt has then failed. */
  signal: AbortSignal;
}
