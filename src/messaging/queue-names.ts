import { TaskerError } from '../errors.js';

/**
 * Longest queue name: pgmq derives `archived_at_idx_<name>` from it, which must fit in
 * PostgreSQL's 63-character identifiers.
 */
export const MAX_QUEUE_NAME_LENGTH = 47;

const QUEUE_NAME = /^[a-z][a-z0-9_]*$/;

/** Why `name` is not a valid queue name, or undefined when it is. */
export function queueNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `it must be a string, not ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'it must not be empty';
  if (name.length > MAX_QUEUE_NAME_LENGTH) {
    return `it has ${name.length} characters, at most ${MAX_QUEUE_NAME_LENGTH} are allowed`;
  }
  if (!QUEUE_NAME.test(name)) return 'use lowercase letters, digits and underscores, starting with a letter';
  return undefined;
}

/**
 * Refuses anything but a plain lowercase identifier of at most 47 characters, before any SQL
 * is built: queue names become table names and notification channels.
 * @throws TaskerError `QUEUE_NAME_INVALID` naming the bad name and the reason.
 */
export function assertQueueName(name: string): void {
  const problem = queueNameProblem(name);
  if (problem !== undefined) {
    // Long names are cut so the message stays one readable line.
    const shown =
      typeof name === 'string' ? ` ${JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name)}` : '';
    throw new TaskerError('QUEUE_NAME_INVALID', `invalid queue name${shown}: ${problem}`);
  }
}
