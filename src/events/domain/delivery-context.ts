import type { Queryable } from '../../db/database.js';
import type { DeliveryMode } from '../../templates/types.js';

/**
 * What a durable subscriber receives beside the event. For events declared `acknowledged`,
 * `tx` is the transaction that records the acknowledgement: writes made through it commit
 * together with it, exactly once.
 */
export interface DeliveryContext {
  subscriberId: string;
  /** The event's declared delivery mode. */
  delivery: DeliveryMode;
  /** 1 for the first delivery to this subscriber. */
  attempt: number;
  /**
   * The W3C trace context the event was published in (the publishing attempt's `step.execution`
   * span, or its task's span when the worker records no telemetry), to continue the trace from.
   */
  traceparent?: string;
  tx?: Queryable;
}
