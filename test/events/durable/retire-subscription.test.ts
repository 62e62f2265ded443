/**
 * `tasker events subscriptions list|remove`: an abandoned durable subscription can be seen with
 * what waits in its queue, and retired, after which events are no longer copied to it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureNamespaceQueues } from '../../../src/engine/namespace-queues.js';
import { registerDurableSubscriptions } from '../../../src/events/domain/durable-subscriptions.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.js';

const run = promisify(execFile);
const NS = 'durable_retire';

async function tasker(args: string[], url: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/tasker.js', ...args], {
      env: { ...process.env, DATABASE_URL: url },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('retiring a durable subscription', { timeout: 120_000 }, () => {
  let testDb: TestDatabase | undefined;

  afterEach(async () => {
    await testDb?.dispose();
  });

  it('lists it with its waiting copies, removes it with its queue, and refuses an unknown one', async () => {
    testDb = await createTestDatabase('postgres');
    const { db, url } = testDb;
    await ensureNamespaceQueues(db, NS);
    const [gone, kept] = await registerDurableSubscriptions(db, NS, [
      { id: 'old-audit', pattern: 'order.#' },
      { id: 'mailer', pattern: 'order.placed' },
    ]);
    await db.query('SELECT pgmq.send($1, $2::jsonb)', [gone!.queue_name, JSON.stringify({ waiting: true })]);

    const listed = await tasker(['events', 'subscriptions', 'list', '--namespace', NS, '--json'], url!);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ subscriber_id: string; queue_length: number }>;
    expect(rows.map((row) => [row.subscriber_id, row.queue_length])).toEqual([
      ['mailer', 0],
      ['old-audit', 1],
    ]);

    const removed = await tasker(['events', 'subscriptions', 'remove', 'old-audit', '--namespace', NS], url!);
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe(`removed old-audit from ${NS} (dropped ${gone!.queue_name})`);
    const left = await db.query<{ subscriber_id: string }>(
      'SELECT subscriber_id FROM tasker.event_subscriptions WHERE namespace = $1',
      [NS],
    );
    expect(left.rows.map((row) => row.subscriber_id)).toEqual(['mailer']);
    const queues = await db.query('SELECT 1 FROM pgmq.meta WHERE queue_name = $1', [gone!.queue_name]);
    expect(queues.rowCount).toBe(0);
    // Its statement functions went with it; the other subscriber's stayed.
    const functions = await db.query<{ proname: string }>(
      "SELECT proname FROM pg_proc WHERE proname LIKE '%\\_\\_' || $1 OR proname LIKE '%\\_\\_' || $2 ORDER BY proname",
      [gone!.queue_name, kept!.queue_name],
    );
    expect(functions.rows.map((row) => row.proname)).toEqual(
      ['archive', 'hide', 'read', 'send'].map((op) => `${op}__${kept!.queue_name}`),
    );

    const unknown = await tasker(['events', 'subscriptions', 'remove', 'old-audit', '--namespace', NS], url!);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`tasker: no durable subscription "old-audit" in namespace ${NS}\n`);
  });
});
