import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { PgmqClient, notificationChannel, type QueueMessage } from '../../src/messaging/pgmq-client.js';
import { startQueueConsumer } from '../../src/messaging/queue-consumer.js';
import {
  itOnServer,
  DATABASE_KINDS,
  createTestDatabase,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';

/** A promise with its resolve function outside. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `predicate` holds, checking after each event-loop turn (no fixed delays). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Poll interval long enough that only a notification can wake a consumer within a test. */
const NO_POLLING_MS = 10 * 60_000;

describe.each(DATABASE_KINDS)('PgmqClient on %s', (kind) => {
  let t: TestDatabase;
  let client: PgmqClient;
  let counter = 0;

  async function freshQueue(): Promise<string> {
    counter += 1;
    const name = `client_${counter}`;
    await client.createQueue(name);
    return name;
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    client = new PgmqClient(t.db);
  });
  afterAll(() => t.dispose());
  beforeEach(keepDatabaseOnFailure);

  describe('queue operations', () => {
    it('creates queues idempotently, lists and drops them', async () => {
      await client.createQueue('client_life');
      await client.createQueue('client_life');
      await client.createQueue('client_fast', { unlogged: true });
      const listed = (await client.listQueues()).filter((q) => q.queueName.startsWith('client_'));
      expect(listed.map((q) => [q.queueName, q.isUnlogged, q.isPartitioned])).toEqual([
        ['client_fast', true, false],
        ['client_life', false, false],
      ]);
      expect(listed[0]?.createdAt).toBeInstanceOf(Date);
      expect(await client.dropQueue('client_life')).toBe(true);
      expect(await client.dropQueue('client_life')).toBe(false);
      expect(await client.dropQueue('client_fast')).toBe(true);
    });

    it('sends and reads typed messages with headers', async () => {
      const q = await freshQueue();
      const id = await client.send(q, { order: 7, items: ['a', 'b'] }, { headers: { trace: 't1' } });
      const [message, ...rest] = await client.read<{ order: number; items: string[] }>(q, {
        vtSeconds: 30,
        qty: 5,
      });
      expect(rest).toEqual([]);
      expect(message).toMatchObject({
        msgId: id,
        readCount: 1,
        message: { order: 7, items: ['a', 'b'] },
        headers: { trace: 't1' },
      });
      expect(typeof message?.msgId).toBe('number');
      expect(message?.enqueuedAt).toBeInstanceOf(Date);
      expect(message!.vt.getTime()).toBeGreaterThan(message!.enqueuedAt.getTime());
    });

    it('reads only matching messages with a conditional', async () => {
      const q = await freshQueue();
      await client.sendBatch(q, [{ kind: 'a' }, { kind: 'b' }, { kind: 'a' }]);
      const read = await client.read<{ kind: string }>(q, {
        vtSeconds: 30,
        qty: 10,
        conditional: { kind: 'b' },
      });
      expect(read.map((m) => m.message)).toEqual([{ kind: 'b' }]);
    });

    it('delays a message and makes it visible with setVt', async () => {
      const q = await freshQueue();
      const id = await client.send(q, 'later', { delaySeconds: 3600 });
      expect(await client.read(q, { vtSeconds: 30, qty: 1 })).toEqual([]);
      expect((await client.metrics(q)).queueLength).toBe(1);
      const moved = await client.setVt<string>(q, id, 0);
      expect(moved).toMatchObject({ msgId: id, message: 'later', readCount: 0 });
      expect((await client.read<string>(q, { vtSeconds: 30, qty: 1 })).map((m) => m.message)).toEqual([
        'later',
      ]);
      expect(await client.setVt(q, 987654, 0)).toBeUndefined();
    });

    it('sendBatch returns ids in order and keeps headers per message', async () => {
      const q = await freshQueue();
      const ids = await client.sendBatch(q, [{ n: 1 }, { n: 2 }, { n: 3 }], {
        headers: [{ h: 1 }, { h: 2 }, { h: 3 }],
      });
      expect(ids).toHaveLength(3);
      const read = await client.read<{ n: number }>(q, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => [m.msgId, m.message.n, m.headers])).toEqual([
        [ids[0], 1, { h: 1 }],
        [ids[1], 2, { h: 2 }],
        [ids[2], 3, { h: 3 }],
      ]);
      expect(await client.sendBatch(q, [])).toEqual([]);
      await expect(client.sendBatch(q, [1, 2], { headers: [{}] })).rejects.toThrow(
        /1 headers for 2 messages/,
      );
    });

    it('pops, deletes, archives and purges', async () => {
      const q = await freshQueue();
      const ids = await client.sendBatch(q, ['a', 'b', 'c', 'd', 'e', 'f']);
      expect(await client.pop<string>(q)).toMatchObject({ msgId: ids[0], message: 'a', readCount: 0 });
      expect(await client.delete(q, ids[1]!)).toBe(true);
      expect(await client.delete(q, ids[1]!)).toBe(false);
      expect(await client.delete(q, [ids[1]!, ids[2]!])).toEqual([ids[2]]);
      expect(await client.archive(q, ids[3]!)).toBe(true);
      expect((await client.archive(q, [ids[3]!, ids[4]!])).sort()).toEqual([ids[4]]);
      expect(await client.archive(q, [])).toEqual([]);
      const archived = await t.db.query<{ msg_id: number }>(`SELECT msg_id FROM pgmq.a_${q} ORDER BY 1`);
      expect(archived.rows.map((r) => r.msg_id)).toEqual([ids[3], ids[4]]);
      expect(await client.purge(q)).toBe(1);
      expect(await client.pop(q)).toBeUndefined();
    });

    it('reports metrics of one queue and of all', async () => {
      const q = await freshQueue();
      await client.sendBatch(q, [1, 2, 3]);
      await client.read(q, { vtSeconds: 30, qty: 1 });
      const metrics = await client.metrics(q);
      expect(metrics).toMatchObject({
        queueName: q,
        queueLength: 3,
        queueVisibleLength: 2,
        totalMessages: 3,
      });
      expect(metrics.scrapeTime).toBeInstanceOf(Date);
      const all = await client.metricsAll();
      expect(all.find((m) => m.queueName === q)).toMatchObject({ queueLength: 3 });
    });

    it('names a missing queue and refuses bad arguments before SQL', async () => {
      await expect(client.send('client_nowhere', 1)).rejects.toMatchObject({
        code: 'QUEUE_NOT_FOUND',
        message: 'queue "client_nowhere" does not exist',
      });
      await expect(client.read('client_nowhere', { vtSeconds: 1, qty: 1 })).rejects.toMatchObject({
        code: 'QUEUE_NOT_FOUND',
      });
      const q = await freshQueue();
      await expect(client.read(q, { vtSeconds: -1, qty: 1 })).rejects.toThrow(
        /vtSeconds must be a whole number/,
      );
      await expect(client.read(q, { vtSeconds: 1, qty: 0 })).rejects.toThrow(
        /qty must be a whole number of at least 1/,
      );
      await expect(client.send(q, 1, { delaySeconds: 1.5 })).rejects.toBeInstanceOf(TaskerError);
    });
  });

  describe('concurrent sends', () => {
    it('each caller gets the id of its own message', async () => {
      const q = await freshQueue();
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) => client.send(q, { i }, { headers: { i } })),
      );
      expect(new Set(ids).size).toBe(40);
      const read = await client.read<{ i: number }>(q, { vtSeconds: 30, qty: 100 });
      expect(read).toHaveLength(40);
      for (const message of read) {
        expect(ids[message.message.i]).toBe(message.msgId);
        expect(message.headers).toEqual({ i: message.message.i });
      }
    });

    it('one bad message does not fail the others sent alongside it', async () => {
      const q = await freshQueue();
      // jsonb refuses the NUL character, so this message alone fails.
      const results = await Promise.allSettled([
        client.send(q, { ok: 1 }),
        client.send(q, { bad: '\u0000' }),
        client.send(q, { ok: 2 }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const read = await client.read(q, { vtSeconds: 30, qty: 10 });
      expect(read.map((m) => m.message)).toEqual([{ ok: 1 }, { ok: 2 }]);
    });
  });

  describe('notifications and transactions', () => {
    it('notifies the queue channel when a message is sent', async () => {
      const q = await freshQueue();
      const heard = deferred<string>();
      const unlisten = await t.db.listen(notificationChannel(q), heard.resolve);
      try {
        await client.send(q, { hello: 1 });
        expect(await heard.promise).toBe('');
      } finally {
        await unlisten();
      }
    });

    it('a rolled-back transaction sends nothing and notifies nothing', async () => {
      const q = await freshQueue();
      const payloads: string[] = [];
      const unlisten = await t.db.listen(notificationChannel(q), (payload) => payloads.push(payload));
      try {
        await expect(
          t.db.transaction(async (tx) => {
            await client.send(q, { doomed: 1 }, { tx });
            await client.sendBatch(q, [{ doomed: 2 }, { doomed: 3 }], { tx });
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        // (totalMessages would count them: sequences do not roll back.)
        expect((await client.metrics(q)).queueLength).toBe(0);
        expect(await client.read(q, { vtSeconds: 30, qty: 10 })).toEqual([]);

        // Notifications arrive in commit order: once this one is in, a rolled-back one would be too.
        await client.send(q, { kept: 1 });
        await until(() => payloads.length > 0);
        expect(payloads).toEqual(['']);
        expect((await client.read(q, { vtSeconds: 30, qty: 10 })).map((m) => m.message)).toEqual([
          { kept: 1 },
        ]);
      } finally {
        await unlisten();
      }
    });

    it('a committed transaction delivers its messages and one notification per statement', async () => {
      const q = await freshQueue();
      const payloads: string[] = [];
      const unlisten = await t.db.listen(notificationChannel(q), (payload) => payloads.push(payload));
      try {
        await t.db.transaction(async (tx) => {
          await client.send(q, { a: 1 }, { tx });
          await client.sendBatch(q, [{ a: 2 }], { tx });
        });
        await until(() => payloads.length > 0);
        const read = await client.read(q, { vtSeconds: 30, qty: 10 });
        expect(read.map((m) => m.message)).toEqual([{ a: 1 }, { a: 2 }]);
        // PostgreSQL folds identical notifications of one transaction into one.
        expect(payloads).toEqual(['']);
      } finally {
        await unlisten();
      }
    });

    itOnServer(kind)('a message sent in a transaction is invisible to others until commit', async () => {
      const q = await freshQueue();
      await t.db.transaction(async (tx) => {
        await client.send(q, { pending: true }, { tx });
        expect(await client.read(q, { vtSeconds: 30, qty: 10 })).toEqual([]);
      });
      expect(await client.read(q, { vtSeconds: 30, qty: 10 })).toHaveLength(1);
    });
  });

  describe('startQueueConsumer', () => {
    it('drains what is queued at start, in batches of at most batchSize', async () => {
      const q = await freshQueue();
      await client.sendBatch(
        q,
        Array.from({ length: 25 }, (_, i) => ({ i })),
      );
      const sizes: number[] = [];
      const seen: number[] = [];
      const consumer = await startQueueConsumer<{ i: number }>({
        db: t.db,
        client,
        queue: q,
        batchSize: 10,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          sizes.push(messages.length);
          seen.push(...messages.map((m) => m.message.i));
          await client.archive(
            q,
            messages.map((m) => m.msgId),
          );
        },
      });
      await until(() => seen.length >= 25);
      await consumer.stop();
      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    });

    it('is woken by the notification of a new message (polling is off)', async () => {
      const q = await freshQueue();
      const received = deferred<QueueMessage<{ ping: number }>[]>();
      const consumer = await startQueueConsumer<{ ping: number }>({
        db: t.db,
        client,
        queue: q,
        batchSize: 5,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
          received.resolve(messages);
        },
      });
      try {
        await client.send(q, { ping: 1 });
        const messages = await received.promise;
        expect(messages.map((m) => m.message)).toEqual([{ ping: 1 }]);
      } finally {
        await consumer.stop();
      }
    });

    it('coalesces a burst of notifications into at most one more drain', async () => {
      const q = await freshQueue();
      let reads = 0;
      const counting = new PgmqClient(t.db);
      const read = counting.read.bind(counting);
      counting.read = (...args: Parameters<PgmqClient['read']>) => {
        reads += 1;
        return read(...args);
      };
      const firstHandled = deferred();
      const release = deferred();
      let handled = 0;
      const consumer = await startQueueConsumer<{ n: number }>({
        db: t.db,
        client: counting,
        queue: q,
        batchSize: 100,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          handled += messages.length;
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
          if (handled === 1) {
            firstHandled.resolve();
            await release.promise;
          }
        },
      });
      try {
        await client.send(q, { n: 0 });
        await firstHandled.promise;
        for (let n = 1; n <= 20; n++) await client.send(q, { n });
        release.resolve();
        await until(() => handled === 21);
      } finally {
        await consumer.stop();
      }
      // 1 at start (or the first message), 1 for it, 1 for the 20, and at most 2 for stragglers;
      // one drain per notification would be over 20.
      expect(reads).toBeLessThanOrEqual(5);
    });

    it('stop waits for the batch in progress and then reads no more', async () => {
      const q = await freshQueue();
      const started = deferred();
      const release = deferred();
      let finished = false;
      const consumer = await startQueueConsumer({
        db: t.db,
        client,
        queue: q,
        batchSize: 10,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          started.resolve();
          await release.promise;
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
          finished = true;
        },
      });
      await client.send(q, { slow: true });
      await started.promise;
      let stopped = false;
      const stopping = consumer.stop().then(() => (stopped = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(stopped).toBe(false);
      release.resolve();
      await stopping;
      expect(finished).toBe(true);

      await client.send(q, { after: 'stop' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await client.metrics(q)).queueVisibleLength).toBe(1);
    });

    it('with maxInFlight reads the next batch while one is handled, never holding more', async () => {
      const q = await freshQueue();
      await client.sendBatch(
        q,
        Array.from({ length: 25 }, (_, i) => ({ i })),
      );
      const release = deferred();
      const sizes: number[] = [];
      let inHand = 0;
      let mostInHand = 0;
      let handled = 0;
      const consumer = await startQueueConsumer<{ i: number }>({
        db: t.db,
        client,
        queue: q,
        batchSize: 10,
        maxInFlight: 20,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          sizes.push(messages.length);
          inHand += messages.length;
          mostInHand = Math.max(mostInHand, inHand);
          await release.promise;
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
          inHand -= messages.length;
          handled += messages.length;
        },
      });
      try {
        // The first batch is still in hand when the second is read; the third waits for room.
        await until(() => sizes.length === 2);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(sizes).toEqual([10, 10]);
        release.resolve();
        await until(() => handled === 25);
      } finally {
        await consumer.stop();
      }
      expect(sizes).toEqual([10, 10, 5]);
      expect(mostInHand).toBe(20);
    });

    it('refuses options that would fail every read or spin', async () => {
      const q = await freshQueue();
      const base = { db: t.db, client, queue: q, handle: () => Promise.resolve() };
      await expect(
        startQueueConsumer({ ...base, batchSize: 0, visibilityTimeoutSeconds: 30, pollIntervalMs: 1000 }),
      ).rejects.toThrow(/batchSize must be a whole number/);
      await expect(
        startQueueConsumer({ ...base, batchSize: 1, visibilityTimeoutSeconds: 30, pollIntervalMs: 0 }),
      ).rejects.toThrow(/pollIntervalMs must be positive/);
      await expect(
        startQueueConsumer({
          ...base,
          batchSize: 10,
          maxInFlight: 5,
          visibilityTimeoutSeconds: 30,
          pollIntervalMs: 1000,
        }),
      ).rejects.toThrow(/maxInFlight must be a whole number ≥ batchSize/);
      await expect(
        startQueueConsumer({
          ...base,
          queue: 'Bad-Name',
          batchSize: 1,
          visibilityTimeoutSeconds: 1,
          pollIntervalMs: 1,
        }),
      ).rejects.toMatchObject({ code: 'QUEUE_NAME_INVALID' });
    });

    it('passes errors to onError and carries on', async () => {
      const q = await freshQueue();
      const errors: unknown[] = [];
      const done = deferred<number>();
      let attempts = 0;
      const consumer = await startQueueConsumer<{ x: number }>({
        db: t.db,
        client,
        queue: q,
        batchSize: 1,
        visibilityTimeoutSeconds: 0,
        pollIntervalMs: NO_POLLING_MS,
        retryDelayMs: 10,
        onError: (error) => errors.push(error),
        handle: async (messages) => {
          attempts += 1;
          if (attempts === 1) throw new Error('first attempt fails');
          await client.delete(q, messages[0]!.msgId);
          done.resolve(messages[0]!.readCount);
        },
      });
      try {
        await client.send(q, { x: 1 });
        expect(await done.promise).toBe(2);
        expect(errors).toHaveLength(1);
        expect(String(errors[0])).toMatch(/first attempt fails/);
      } finally {
        await consumer.stop();
      }
    });

    it('survives its queue disappearing and coming back', async () => {
      const q = await freshQueue();
      const errors: unknown[] = [];
      const received = deferred<unknown>();
      const consumer = await startQueueConsumer({
        db: t.db,
        client,
        queue: q,
        batchSize: 5,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        retryDelayMs: 10,
        onError: (error) => errors.push(error),
        handle: async (messages) => {
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
          received.resolve(messages[0]?.message);
        },
      });
      try {
        await client.dropQueue(q);
        // Reads fail while the queue is gone (a notification makes the consumer look at once).
        await t.db.query(`SELECT pg_notify($1, '')`, [notificationChannel(q)]);
        await until(() => errors.length > 0);
        expect(errors[0]).toMatchObject({ code: 'QUEUE_NOT_FOUND' });
        await client.createQueue(q);
        await client.send(q, { back: true });
        expect(await received.promise).toEqual({ back: true });
      } finally {
        await consumer.stop();
      }
    });

    itOnServer(kind)('reads again after its listening connection was re-established', async () => {
      const q = await freshQueue();
      const received: unknown[] = [];
      const consumer = await startQueueConsumer({
        db: t.db,
        client,
        queue: q,
        batchSize: 5,
        visibilityTimeoutSeconds: 30,
        pollIntervalMs: NO_POLLING_MS,
        handle: async (messages) => {
          received.push(...messages.map((m) => m.message));
          await client.delete(
            q,
            messages.map((m) => m.msgId),
          );
        },
      });
      try {
        await client.send(q, { n: 1 });
        await until(() => received.length === 1);
        // A message that announces itself to nobody: only a fresh look at the queue finds it.
        await t.db.query(`SELECT pgmq.send($1, '{"n":2}'::jsonb)`, [q]);
        await t.db.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ~ '^(UN)?LISTEN '",
        );
        await until(() => received.length === 2);
        expect(received).toEqual([{ n: 1 }, { n: 2 }]);
      } finally {
        await consumer.stop();
      }
    });
  });
});
