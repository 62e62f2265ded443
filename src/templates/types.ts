/**
 * Task templates as the rest of Tasker sees them, after validation: every default applied,
 * every name checked. YAML keys are snake_case (as the spec writes them); the fields here
 * are camelCase, and each doc comment names the YAML key it comes from.
 *
 * Glossary:
 * - template: a named, versioned DAG of steps inside a namespace (`payments/process_payment@1.0.0`).
 * - step: one unit of work run by a worker through the handler named by `handler.callable`.
 * - dependency: a step that must be complete (or resolved manually) before this one is ready.
 * - event declaration: a domain event a step may publish, with its payload's JSON Schema.
 *
 * Templates returned by the loader are deeply frozen: share them, never mutate them.
 */

/** How a domain event travels (YAML `publishes_events[].delivery`, spec 2.5). */
export const DELIVERY_MODES = ['fire_and_forget', 'durable', 'acknowledged'] as const;

/** `fire_and_forget` (in-process, best effort), `durable` (PGMQ, at least once), `acknowledged` (exactly once per subscriber). */
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** Which outcome of a step's attempt lets a declared event go out (YAML `publishes_events[].condition`). */
export const EVENT_CONDITIONS = ['success', 'failure', 'always'] as const;

/** `success` (the default): only when the attempt succeeds; `failure`: only when it fails; `always`: either way. */
export type EventCondition = (typeof EVENT_CONDITIONS)[number];

/** How the wait before a retry grows (YAML `retry.backoff`). */
export const BACKOFF_KINDS = ['none', 'linear', 'exponential'] as const;

/**
 * `none`: retry as soon as the failure is processed; `linear`: `backoff_base_ms × n`;
 * `exponential`: `backoff_base_ms × 2^(n-1)`; where n is the number of the failed attempt
 * (1 for the first), always capped at `max_backoff_ms`.
 */
export type BackoffKind = (typeof BACKOFF_KINDS)[number];

/** A domain event a step may publish (one entry of YAML `publishes_events`). */
export interface EventDeclaration {
  /** YAML `name`: `domain.action`, lowercase segments split by dots, at least two; not `task.`/`step.`/`workflow.`. */
  readonly name: string;
  /** YAML `description`. */
  readonly description?: string;
  /** YAML `schema`: JSON Schema of the payload (draft 2020-12 unless `$schema` says draft-07). */
  readonly schema: object;
  /** YAML `delivery`; defaults to the configuration's `events.default_delivery`. */
  readonly delivery: DeliveryMode;
  /** YAML `condition`; defaults to `success`. */
  readonly condition: EventCondition;
}

/** Retry policy of a step (YAML `retry`). */
export interface RetryPolicy {
  /** YAML `retryable` (default true). When false the step runs once and `maxAttempts` is 1. */
  readonly retryable: boolean;
  /** YAML `max_attempts` (default 3): attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** YAML `backoff` (default `exponential`). */
  readonly backoff: BackoffKind;
  /** YAML `backoff_base_ms` (default 1000). */
  readonly backoffBaseMs: number;
  /** YAML `max_backoff_ms` (default 30000): no wait is longer, whatever the backoff. */
  readonly maxBackoffMs: number;
}

/** Which code runs a step (YAML `handler`). */
export interface HandlerReference {
  /** YAML `callable`: the key of the handler in the worker's handler module, e.g. `Payments::ChargeCardHandler`. */
  readonly callable: string;
  /** YAML `initialization` (default `{}`): JSON values handed to the handler as configuration. */
  readonly initialization: Readonly<Record<string, unknown>>;
}

/** One step of a template (one entry of YAML `steps`). */
export interface StepTemplate {
  /** YAML `name`: `^[a-z][a-z0-9_]*$`, unique within the template. */
  readonly name: string;
  /** YAML `description`. */
  readonly description?: string;
  /** YAML `handler`. */
  readonly handler: HandlerReference;
  /** YAML `dependencies` (alias `depends_on`, default `[]`): names of the steps that must finish first. */
  readonly dependencies: readonly string[];
  /** YAML `retry`, defaults applied (see DEFAULT_RETRY). */
  readonly retry: RetryPolicy;
  /** YAML `timeout_seconds` (default 60): how long one attempt of the handler may run. */
  readonly timeoutSeconds: number;
  /** YAML `publishes_events` (default `[]`). */
  readonly publishesEvents: readonly EventDeclaration[];
}

/** A validated task template (one YAML file). */
export interface TaskTemplate {
  /** YAML `name`: `^[a-z][a-z0-9_]*$`. */
  readonly name: string;
  /** YAML `namespace_name`: `^[a-z][a-z0-9_]*$`, at most 29 characters (it is part of queue names). */
  readonly namespace: string;
  /** YAML `version`: a semantic version such as `1.0.0` (pre-release allowed, build metadata not). */
  readonly version: string;
  /** YAML `description`. */
  readonly description?: string;
  /** YAML `input_schema`: JSON Schema every task context must match when a task is created. */
  readonly inputSchema?: object;
  /** YAML `steps`, in file order (at least one). */
  readonly steps: readonly StepTemplate[];
  /** The file the template was loaded from, as it was given to the loader. */
  readonly source: string;
}

/** Retry policy of a step whose YAML has no `retry` key (or leaves some of its keys out). */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  retryable: true,
  maxAttempts: 3,
  backoff: 'exponential',
  backoffBaseMs: 1000,
  maxBackoffMs: 30_000,
});

/** `timeout_seconds` of a step that does not set it. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** `delivery` of an event declaration that does not set it, unless configuration says otherwise. */
export const DEFAULT_DELIVERY: DeliveryMode = 'fire_and_forget';
