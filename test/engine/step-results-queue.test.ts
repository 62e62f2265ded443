/**
 * The engine's static statements on the step results queue (tasker.send_step_results,
 * read_step_results, archive_step_results) must behave as pgmq's send_batch + NOTIFY, read and
 * archive do on that queue, since any pgmq client may read or replay it. Each is checked here
 * against pgmq's own function on the same queue, on the real server and on the embedded database.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STEP_RESULTS_QUEUE } from '../../src/engine/queues.js';
import { notificationChannel, PgmqClient } from '../../src/messaging/pgmq-client.js';
import { readStepResults } from '../../src/orchestration/step-results-read.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  itOnServer,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';

describe.each(DATABASE_KINDS)('the step results queue statements on %s', (kind) => {
  let t: TestDatabase;
  let pgmq: PgmqClient;

  async function sendResults(messages: unknown[]): Promise<void> {
    await t.db.query('SELECT tasker.send_step_results($1::jsonb[])', [
      messages.map((m) => JSON.stringify(m)),
    ]);
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    pgmq = new PgmqClient(t.db);
  });
  afterAll(() => t.dispose());
  beforeEach(async () => {
    keepDatabaseOnFailure();
    await pgmq.purge(STEP_RESULTS_QUEUE);
  });

  it('sends messages any pgmq client reads, in order, and notifies the queue channel at commit', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(notificationChannel(STEP_RESULTS_QUEUE), (payload) =>
      heard.push(payload),
    );
    try {
      await sendResults([{ n: 1 }, { n: 2 }]);
      const read = await pgmq.read(STEP_RESULTS_QUEUE, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(read.map((m) => m.readCount)).toEqual([1, 1]);
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['']);
    } finally {
      await unlisten();
    }
  });

  it('sends nothing and notifies nothing from a rolled-back transaction', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(notificationChannel(STEP_RESULTS_QUEUE), (payload) =>
      heard.push(payload),
    );
    try {
      await expect(
        t.db.transaction(async (tx) => {
          await tx.query('SELECT tasker.send_step_results($1::jsonb[])', [
            [JSON.stringify({ doomed: true })],
          ]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      // Notifications come in commit order: once this one is in, a rolled-back one would be too.
      await sendResults([{ kept: true }]);
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['']);
      const read = await pgmq.read(STEP_RESULTS_QUEUE, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => m.message)).toEqual([{ kept: true }]);
    } finally {
      await unlisten();
    }
  });

  it('reads like pgmq.read: oldest first, at most qty, hidden for the visibility timeout, read_ct counted', async () => {
    await sendResults([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const before = Date.now();
    const first = await readStepResults<{ n: number }>(t.db, 30, 2);
    expect(first.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(first.map((m) => m.readCount)).toEqual([1, 1]);
    for (const message of first) expect(message.vt.getTime()).toBeGreaterThanOrEqual(before + 29_000);
    const second = await readStepResults<{ n: number }>(t.db, 0, 10);
    expect(second.map((m) => m.message)).toEqual([{ n: 3 }]);
    // A zero visibility timeout leaves it visible: the next read gets it again, counted twice.
    const third = await readStepResults<{ n: number }>(t.db, 30, 10);
    expect(third.map((m) => [m.message.n, m.readCount])).toEqual([[3, 2]]);
    expect(await readStepResults(t.db, 30, 10)).toEqual([]);
    // pgmq's own read agrees that nothing is visible.
    expect(await pgmq.read(STEP_RESULTS_QUEUE, { vtSeconds: 30, qty: 10 })).toEqual([]);
  });

  it('archives like pgmq.archive: the rows move to the archive with their counts, and nothing else does', async () => {
    await sendResults([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const read = await readStepResults<{ n: number }>(t.db, 30, 2);
    await t.db.query('SELECT tasker.archive_step_results($1::bigint[])', [read.map((m) => m.msgId)]);
    await t.db.query('SELECT tasker.archive_step_results($1::bigint[])', [[]]);
    const { rows: archived } = await t.db.query<{ msg_id: number; read_ct: number; message: unknown }>(
      'SELECT msg_id, read_ct, message FROM pgmq.a_orchestration_step_results WHERE msg_id = ANY ($1::bigint[]) ORDER BY msg_id',
      [read.map((m) => m.msgId)],
    );
    expect(archived).toEqual(read.map((m) => ({ msg_id: m.msgId, read_ct: 1, message: m.message })));
    const left = await pgmq.read<{ n: number }>(STEP_RESULTS_QUEUE, { vtSeconds: 30, qty: 10 });
    expect(left.map((m) => m.message)).toEqual([{ n: 3 }]);
  });

  itOnServer(kind)('skips results another open transaction has read, instead of waiting for it', async () => {
    await sendResults([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await t.db.transaction(async (tx) => {
      const inTx = await readStepResults<{ n: number }>(tx, 30, 2);
      expect(inTx.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }]);
      const outside = await readStepResults<{ n: number }>(t.db, 30, 10);
      expect(outside.map((m) => m.message)).toEqual([{ n: 3 }]);
    });
  });
});
