/**
 * One error base with stable codes, so the CLI can print one clear line and callers can
 * branch on `code` rather than on message text.
 */
export type TaskerErrorCode =
  | 'CONFIG_INVALID'
  | 'DATABASE_UNREACHABLE'
  | 'MIGRATION_FAILED'
  | 'QUEUE_NAME_INVALID'
  | 'QUEUE_NOT_FOUND'
  | 'PGMQ_UNAVAILABLE'
  | 'TEMPLATE_INVALID'
  | 'TEMPLATE_NOT_FOUND'
  | 'CONTEXT_INVALID'
  | 'HANDLER_INVALID'
  | 'TASK_NOT_FOUND'
  | 'STATE_CONFLICT'
  | 'EVENT_INVALID'
  | 'TIMEOUT'
  | 'USAGE';

/** Base class of every error Tasker raises on purpose. */
export class TaskerError extends Error {
  readonly code: TaskerErrorCode;

  constructor(code: TaskerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskerError';
    this.code = code;
  }
}

/** The `code` an error carries (a PostgreSQL SQLSTATE, a Node.js `ENOENT`, …), if any. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** True for errors Tasker raised on purpose (their message is meant for the user as-is). */
export function isTaskerError(error: unknown): error is TaskerError {
  return error instanceof TaskerError;
}
