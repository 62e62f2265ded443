/**
 * The start-up warning of `tasker events consume` (a process on the real server) for durable
 * subscriptions that can never receive anything: one whose pattern matches only events declared
 * fire_and_forget (never persisted), and one matching no declared event. A subscription that
 * matches durable or acknowledged events gets no warning.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from '../../../src/api/tasks.js';
import { loadTemplates } from '../../../src/templates/load.js';
import { killAll, ROOT, spawnTasker } from '../../engine/support/processes.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../../helpers/databases.js';

const NS = 'durable_flow';

/** The messages of the warning lines (pino JSON, level 40) a process wrote to stderr. */
function warnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((entry) => entry.level === 40)
    .map((entry) => entry.msg);
}

describe('start-up warning for unreachable durable subscriptions', { timeout: 240_000 }, () => {
  let testDb: TestDatabase | undefined;

  beforeEach(async () => {
    keepDatabaseOnFailure();
    testDb = await createTestDatabase('postgres');
  });

  afterEach(async () => {
    await killAll();
    await testDb?.dispose();
  });

  it('names the subscriptions and the fire_and_forget events', async () => {
    // Creating a task registers its template's declarations; no orchestrator runs them.
    const templates = await loadTemplates([path.join(ROOT, 'test/fixtures/durable/templates')]);
    for (const name of ['audit_only', 'publish_then_fail', 'retry_then_publish']) {
      await createTask(testDb!.db, { template: templates.get(NS, name), context: {} });
    }
    const consumer = spawnTasker(
      [
        'events',
        'consume',
        '--handlers',
        'test/fixtures/durable/unreachable-subscribers.ts',
        '--namespace',
        NS,
      ],
      {
        DATABASE_URL: testDb!.url,
        TASKER_CONFIG_ROOT: undefined,
        TASKER_ENV: undefined,
        TASKER_LOG_LEVEL: 'warn',
      },
    );
    await consumer.waitForOutput(/running; SIGTERM/);
    expect(warnings(consumer.stderr())).toEqual([
      'durable subscription audit.watch (audit.#) in durable_flow matches only events declared fire_and_forget (audit.logged); they are never persisted, so it will receive nothing',
      'durable subscription ghost.watch (ghost.*) matches no event declared in durable_flow',
    ]);
  });
});
