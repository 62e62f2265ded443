/** The public API of the `tasker` package: import { … } from 'tasker'. */
export { loadConfig, type LoadConfigOptions } from './config/load.js';
export { configSchema, type TaskerConfig } from './config/schema.js';

// Workflow engine
export { createTask, getTask, type CreateTaskRequest, type CreatedTask } from './api/tasks.js';
export { cancelTask, resolveStep, type ManualActionInfo } from './api/manual-actions.js';
export { waitForTask } from './api/task-finished.js';
export { startEngine, type Engine, type EngineOptions } from './engine/local-engine.js';
export {
  startOrchestrator,
  type Orchestrator,
  type OrchestratorOptions,
} from './orchestration/orchestrator.js';
export { startWorker, type Worker, type WorkerOptions } from './worker/worker.js';
export { loadHandlerModule, type HandlerModule, type StepHandler } from './worker/handler-module.js';
export { PermanentError, isPermanentError } from './worker/permanent-error.js';
export type { StepContext } from './worker/step-context.js';
export type { TaskView, StepView } from './persistence/task-store.js';

// Domain events (tier 2): envelope, patterns, subscriptions, in-process delivery, metrics
export {
  createDomainEvent,
  type DomainEvent,
  type DomainEventMetadata,
  type DomainEventOverrides,
  type DomainEventSource,
} from './events/domain/envelope.js';
export {
  compilePattern,
  isValidPattern,
  validatePattern,
  type EventNameMatcher,
} from './events/domain/patterns.js';
export {
  EventRegistry,
  registerSubscribers,
  type SubscribeOptions,
  type SubscriberDefinition,
  type Subscription,
  type SubscriptionDelivery,
  type SubscriptionHandler,
} from './events/domain/registry.js';
export {
  createBroadcast,
  type Broadcast,
  type BroadcastOptions,
  type BroadcastSubscriber,
  type DomainEventHandler,
  type OverflowStrategy,
  type SubscriberStats,
} from './events/domain/broadcast.js';
export { FireAndForgetDispatcher } from './events/domain/fire-and-forget.js';
export {
  createDomainEventMetrics,
  DOMAIN_EVENT_METRIC_NAMES,
  type DomainEventMetrics,
  type DomainEventMetricsConfig,
} from './events/domain/metrics.js';
export { uuidv7 } from './ids/uuid-v7.js';

// Database
export { connect, type ConnectionOptions } from './db/connect.js';
export { migrate, type MigrationReport, type PgmqMode } from './db/migrate.js';
export type { Database, Queryable } from './db/database.js';
export { TaskerError, isTaskerError, type TaskerErrorCode } from './errors.js';

export type { DeliveryContext } from './events/domain/delivery-context.js';
export { persistEvents, DELIVERY_HEADER, type PersistedEvent } from './events/domain/outbox.js';
export {
  listDeadLetters,
  replayDeadLetters,
  purgeDeadLetters,
  type DeadLetter,
  type DeadLetterFilter,
} from './events/domain/dead-letters.js';
export { PgmqClient, type QueueMessage } from './messaging/pgmq-client.js';

// System events (tier 1): OpenTelemetry only, no subscription API
export {
  createSystemTelemetry,
  type SystemTelemetry,
  type SystemTelemetryOptions,
} from './telemetry/system-telemetry.js';
export { createPresetIdGenerator, withPresetIds, type IdGenerator } from './telemetry/id-generator.js';
