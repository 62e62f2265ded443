import type { Queryable } from '../db/database.js';
import type { ClaimedStep } from './step-claim.js';

/**
 * How a worker hands the domain events of an attempt to the event system: collected while
 * the handler runs, persisted with the attempt's result, released after it commits.
 */
export interface StepEventPublisher {
  /** `trace`: the W3C trace context (`traceparent`) the attempt's persisted events carry. */
  begin(step: ClaimedStep, trace?: { traceparent?: string }): Promise<AttemptEvents>;
}

/** The events of one attempt. */
export interface AttemptEvents {
  /** The attempt ended: later publishes (from a handler still running after a timeout) throw. */
  seal(): void;
  /** Validates and buffers one event; throws into the handler when it is not allowed. */
  publish(name: string, payload: unknown): void;
  /** True when {@link persist} has events to write for this outcome (a transaction is needed). */
  persists(succeeded: boolean): boolean;
  /** In the transaction that records the attempt's outcome: writes what must be durable. */
  persist(tx: Queryable, succeeded: boolean): Promise<void>;
  /**
   * After that transaction committed: in-process delivery. A promise means in-process
   * subscribers are full (`block` overflow strategy) and the worker should wait for room.
   */
  release(succeeded: boolean): Promise<void> | undefined;
}
