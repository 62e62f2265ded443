/**
 * The statement functions the engine creates per queue (tasker.create_queue_statements:
 * send__, read__, archive__ and hide__<queue>, named through tasker.queue_function) must behave
 * as pgmq's send_batch + NOTIFY, read, archive and set_vt do, since any pgmq client may read or
 * replay those queues. Each is checked against pgmq's own functions on the same queue, on the
 * real server and on the embedded database.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import { notificationChannel, PgmqClient } from '../../src/messaging/pgmq-client.js';
import { readQueue } from '../../src/engine/queue-statements.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  itOnServer,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';

async function functionOf(db: Queryable, op: string, queue: string): Promise<string> {
  const { rows } = await db.query<{ fn: string }>('SELECT tasker.queue_function($1, $2) AS fn', [op, queue]);
  return rows[0]!.fn;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.each(DATABASE_KINDS)('per-queue statement functions on %s', (kind) => {
  let t: TestDatabase;
  let pgmq: PgmqClient;
  let counter = 0;
  let queue: string;

  async function send(messages: unknown[], headers?: unknown[], db: Queryable = t.db): Promise<void> {
    await db.query(`SELECT ${await functionOf(db, 'send', queue)}($1::jsonb[], $2::jsonb[])`, [
      messages.map((m) => JSON.stringify(m)),
      headers?.map((h) => JSON.stringify(h)) ?? null,
    ]);
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    pgmq = new PgmqClient(t.db);
  });
  afterAll(() => t.dispose());
  beforeEach(async () => {
    keepDatabaseOnFailure();
    counter += 1;
    queue = `stmt_${counter}`;
    await pgmq.createQueue(queue);
  });

  it('creates a queue’s functions on first use and names them', async () => {
    const exists = async (name: string): Promise<boolean> =>
      (
        await t.db.query(
          'SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2',
          ['tasker', name],
        )
      ).rows.length > 0;
    expect(await exists(`read__${queue}`)).toBe(false);
    expect(await functionOf(t.db, 'read', queue)).toBe(`tasker.read__${queue}`);
    for (const op of ['send', 'read', 'archive', 'hide']) expect(await exists(`${op}__${queue}`)).toBe(true);
    expect(await functionOf(t.db, 'archive', queue)).toBe(`tasker.archive__${queue}`);
  });

  it('refuses an unknown statement, and headers that do not pair one to one with the messages', async () => {
    await expect(functionOf(t.db, 'drop', queue)).rejects.toMatchObject({ code: '22023' });
    await expect(send([{ n: 1 }, { n: 2 }], [{ h: 1 }])).rejects.toMatchObject({ code: '22023' });
    expect(await pgmq.read(queue, { vtSeconds: 30, qty: 10 })).toEqual([]);
  });

  it('refuses a queue name pgmq would not accept, creating nothing', async () => {
    for (const bad of ['Orders', 'a;b', "o'brien", 'x'.repeat(48)]) {
      await expect(functionOf(t.db, 'read', bad)).rejects.toMatchObject({ code: '42602' });
    }
  });

  it('sends like send_batch: in order, with or without headers, and notifies the queue channel at commit', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(notificationChannel(queue), (payload) => heard.push(payload));
    try {
      await send([{ n: 1 }, { n: 2 }]);
      await send([{ n: 3 }], [{ traceparent: 'x' }]);
      const read = await pgmq.read(queue, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => [m.message, m.headers, m.readCount])).toEqual([
        [{ n: 1 }, null, 1],
        [{ n: 2 }, null, 1],
        [{ n: 3 }, { traceparent: 'x' }, 1],
      ]);
      await until(() => heard.length > 0);
      expect(heard[0]).toBe('');
    } finally {
      await unlisten();
    }
  });

  it('returns the new ids in order, and with a delay hides the messages and wakes nobody', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(notificationChannel(queue), (payload) => heard.push(payload));
    try {
      const fn = await functionOf(t.db, 'send', queue);
      const sent = async (messages: unknown[], delay: number): Promise<number[]> =>
        (
          await t.db.query<{ id: number }>(`SELECT id FROM ${fn}($1::jsonb[], NULL, $2) AS id`, [
            messages.map((m) => JSON.stringify(m)),
            delay,
          ])
        ).rows.map((row) => Number(row.id));
      const hidden = await sent([{ n: 1 }, { n: 2 }], 60);
      expect(hidden).toHaveLength(2);
      expect(hidden[1]).toBeGreaterThan(hidden[0]!);
      expect(await pgmq.read(queue, { vtSeconds: 30, qty: 10 })).toEqual([]);
      // Notifications come in commit order: the visible send's arrives, the delayed one's never did.
      const visible = await sent([{ n: 3 }], 0);
      await until(() => heard.length > 0);
      expect(heard).toEqual(['']);
      const read = await pgmq.read(queue, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => [m.msgId, m.message])).toEqual([[visible[0], { n: 3 }]]);
      const { rows } = await t.db.query<{ msg_id: number; vt: Date }>(
        `SELECT msg_id, vt FROM pgmq.q_${queue} WHERE msg_id = ANY($1::bigint[]) ORDER BY msg_id`,
        [hidden],
      );
      expect(rows.map((row) => Number(row.msg_id))).toEqual(hidden);
      for (const row of rows) expect(row.vt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    } finally {
      await unlisten();
    }
  });

  it('sends nothing and notifies nothing from a rolled-back transaction', async () => {
    const heard: string[] = [];
    const unlisten = await t.db.listen(notificationChannel(queue), (payload) => heard.push(payload));
    try {
      await expect(
        t.db.transaction(async (tx) => {
          await send([{ doomed: true }], undefined, tx);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      // Notifications come in commit order: once this one is in, a rolled-back one would be too.
      await send([{ kept: true }]);
      await until(() => heard.length > 0);
      expect(heard).toEqual(['']);
      const read = await pgmq.read(queue, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => m.message)).toEqual([{ kept: true }]);
    } finally {
      await unlisten();
    }
  });

  it('reads like pgmq.read: oldest first, at most qty, hidden for the visibility timeout, read_ct counted', async () => {
    await send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const before = Date.now();
    const first = await readQueue<{ n: number }>(t.db, queue, 30, 2);
    expect(first.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(first.map((m) => m.readCount)).toEqual([1, 1]);
    for (const message of first) expect(message.vt.getTime()).toBeGreaterThanOrEqual(before + 29_000);
    const second = await readQueue<{ n: number }>(t.db, queue, 0, 10);
    expect(second.map((m) => m.message)).toEqual([{ n: 3 }]);
    // A zero visibility timeout leaves it visible: the next read gets it again, counted twice.
    const third = await readQueue<{ n: number }>(t.db, queue, 30, 10);
    expect(third.map((m) => [m.message.n, m.readCount])).toEqual([[3, 2]]);
    expect(await readQueue(t.db, queue, 30, 10)).toEqual([]);
    expect(await pgmq.read(queue, { vtSeconds: 30, qty: 10 })).toEqual([]);
  });

  it('archives like pgmq.archive: the rows move to the archive with their counts, and nothing else does', async () => {
    await send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const read = await readQueue<{ n: number }>(t.db, queue, 30, 2);
    const archive = await functionOf(t.db, 'archive', queue);
    await t.db.query(`SELECT ${archive}($1::bigint[])`, [read.map((m) => m.msgId)]);
    await t.db.query(`SELECT ${archive}($1::bigint[])`, [[]]);
    const { rows: archived } = await t.db.query<{ msg_id: number; read_ct: number; message: unknown }>(
      `SELECT msg_id, read_ct, message FROM pgmq.a_${queue} ORDER BY msg_id`,
    );
    expect(archived).toEqual(read.map((m) => ({ msg_id: m.msgId, read_ct: 1, message: m.message })));
    const left = await pgmq.read<{ n: number }>(queue, { vtSeconds: 30, qty: 10 });
    expect(left.map((m) => m.message)).toEqual([{ n: 3 }]);
  });

  it('reads a queue with a backlog through its index, like pgmq.read, never scanning the whole queue', async () => {
    await pgmq.sendBatch(
      queue,
      Array.from({ length: 20_000 }, (_, n) => ({ n })),
    );
    // Counters of this backend not yet flushed: they only grow within the transaction.
    const seqScans = async (tx: Queryable): Promise<number> =>
      Number(
        (
          await tx.query<{ seq_scan: number }>(
            'SELECT seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = $2',
            ['pgmq', `q_${queue}`],
          )
        ).rows[0]?.seq_scan ?? 0,
      );
    await t.db.transaction(async (tx) => {
      const before = await seqScans(tx);
      const ours = await tx.query(`SELECT msg_id FROM ${await functionOf(tx, 'read', queue)}(30, 100)`);
      const theirs = await tx.query('SELECT msg_id FROM pgmq.read($1, 30, 100)', [queue]);
      expect([ours.rows.length, theirs.rows.length]).toEqual([100, 100]);
      expect(await seqScans(tx)).toBe(before);
    });
  });

  it('hides each message for its own number of seconds, like set_vt', async () => {
    await send([{ n: 1 }, { n: 2 }]);
    const read = await readQueue<{ n: number }>(t.db, queue, 0, 10);
    const before = Date.now();
    await t.db.query(`SELECT ${await functionOf(t.db, 'hide', queue)}($1::bigint[], $2::integer[])`, [
      read.map((m) => m.msgId),
      [0, 60],
    ]);
    const visible = await pgmq.read<{ n: number }>(queue, { vtSeconds: 0, qty: 10 });
    expect(visible.map((m) => m.message)).toEqual([{ n: 1 }]);
    const { rows } = await t.db.query<{ vt: Date }>(`SELECT vt FROM pgmq.q_${queue} WHERE msg_id = $1`, [
      read[1]!.msgId,
    ]);
    expect(rows[0]!.vt.getTime()).toBeGreaterThanOrEqual(before + 59_000);
  });

  itOnServer(kind)(
    'skips messages another open transaction has read, instead of waiting for it',
    async () => {
      await send([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await t.db.transaction(async (tx) => {
        const { rows: inTx } = await tx.query<{ message: unknown }>(
          'SELECT message FROM tasker.read_queue($1, 30, 2) ORDER BY msg_id',
          [queue],
        );
        expect(inTx.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }]);
        const outside = await readQueue<{ n: number }>(t.db, queue, 30, 10);
        expect(outside.map((m) => m.message)).toEqual([{ n: 3 }]);
      });
    },
  );

  itOnServer(kind)('lets several connections create the same queue’s functions at once', async () => {
    const names = await Promise.all(Array.from({ length: 6 }, () => functionOf(t.db, 'send', queue)));
    expect(new Set(names)).toEqual(new Set([`tasker.send__${queue}`]));
  });
});
