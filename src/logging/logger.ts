import { pino, type Logger } from 'pino';

/**
 * The library's structured logger. Quiet (`warn`) unless `TASKER_LOG_LEVEL` says otherwise;
 * the CLI raises it with `--verbose`. Logs go to stderr so stdout stays for command output.
 */
export const logger: Logger = pino(
  { name: 'tasker', level: process.env.TASKER_LOG_LEVEL ?? 'warn' },
  pino.destination({ dest: 2, sync: true }),
);

/** Changes the level of every Tasker log line from now on. */
export function setLogLevel(level: string): void {
  logger.level = level;
}
