/** The public API of the `tasker` package: import { … } from 'tasker'. */
export { loadConfig, type LoadConfigOptions } from './config/load.js';
export { configSchema, type TaskerConfig } from './config/schema.js';

// Workflow engine
export { createTask, getTask, type CreateTaskRequest, type CreatedTask } from './api/tasks.js';
export { cancelTask, resolveStep, type ManualActionInfo } from './api/manual-actions.js';
export { waitForTask } from './api/task-finished.js';
export { startEngine, type Engine, type EngineOptions } from './engine/local-engine.js';
export { startOrchestrator, type Orchestrator, type OrchestratorOptions } from './orchestration/orchestrator.js';
export { startWorker, type Worker, type WorkerOptions } from './worker/worker.js';
export { loadHandlerModule, type HandlerModule, type StepHandler } from './worker/handler-module.js';
export { PermanentError, isPermanentError } from './worker/permanent-error.js';
export type { StepContext } from './worker/step-context.js';
export type { TaskView, StepView } from './persistence/task-store.js';

// Database
export { connect, type ConnectionOptions } from './db/connect.js';
export { migrate, type MigrationReport, type PgmqMode } from './db/migrate.js';
export type { Database, Queryable } from './db/database.js';
export { TaskerError, isTaskerError, type TaskerErrorCode } from './errors.js';
