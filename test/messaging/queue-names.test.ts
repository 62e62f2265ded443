import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { PgmqClient, notificationChannel } from '../../src/messaging/pgmq-client.js';
import { MAX_QUEUE_NAME_LENGTH, assertQueueName, queueNameProblem } from '../../src/messaging/queue-names.js';
import {
  DATABASE_KINDS,
  createTestDatabase,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';

const VALID = ['a', 'orders', 'payments_v2', 'q1', 'a'.repeat(MAX_QUEUE_NAME_LENGTH)];

/** Names that must never reach SQL: injection attempts and everything not a plain identifier. */
const INVALID: [string, RegExp][] = [
  ['', /must not be empty/],
  ["orders'; DROP TABLE pgmq.meta; --", /lowercase letters/],
  ["o'brien", /lowercase letters/],
  ['a"b', /lowercase letters/],
  ['a;b', /lowercase letters/],
  ['a--b', /lowercase letters/],
  ['a$b', /lowercase letters/],
  ['$$', /lowercase letters/],
  ['a b', /lowercase letters/],
  ['Orders', /lowercase letters/],
  ['1orders', /starting with a letter/],
  ['_orders', /starting with a letter/],
  ['a-b', /lowercase letters/],
  ['a.b', /lowercase letters/],
  ['zürich', /lowercase letters/],
  ['a\nb', /lowercase letters/],
  ['a'.repeat(MAX_QUEUE_NAME_LENGTH + 1), /48 characters, at most 47/],
];

describe('assertQueueName', () => {
  it.each(VALID)('accepts %j', (name) => {
    expect(() => assertQueueName(name)).not.toThrow();
    expect(queueNameProblem(name)).toBeUndefined();
  });

  it.each(INVALID)('refuses %j naming the name and the reason', (name, reason) => {
    let caught: unknown;
    try {
      assertQueueName(name);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TaskerError);
    const error = caught as TaskerError;
    expect(error.code).toBe('QUEUE_NAME_INVALID');
    expect(error.message).toMatch(reason);
    expect(error.message).toContain(JSON.stringify(name).slice(0, 20));
  });

  it('refuses values that are not strings', () => {
    expect(() => assertQueueName(undefined as unknown as string)).toThrow(/must be a string, not undefined/);
    expect(() => assertQueueName(null as unknown as string)).toThrow(/must be a string, not null/);
  });

  it('derives channel names that LISTEN accepts, and refuses bad queue names there too', () => {
    expect(notificationChannel('orders')).toBe('pgmq_orders');
    expect(notificationChannel('a'.repeat(MAX_QUEUE_NAME_LENGTH))).toHaveLength(5 + MAX_QUEUE_NAME_LENGTH);
    expect(() => notificationChannel('x; UNLISTEN *')).toThrow(TaskerError);
  });
});

describe.each(DATABASE_KINDS)('queue names on %s', (kind) => {
  let t: TestDatabase;
  let client: PgmqClient;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    client = new PgmqClient(t.db);
    await t.db.exec('CREATE TABLE public.canary (id int); INSERT INTO public.canary VALUES (1);');
  });
  afterAll(() => t.dispose());
  beforeEach(keepDatabaseOnFailure);

  /** Everything a queue could have left behind: catalogue rows and relations in pgmq. */
  async function footprint(): Promise<{ queues: string[]; relations: number }> {
    const queues = (
      await t.db.query<{ queue_name: string }>('SELECT queue_name FROM pgmq.meta ORDER BY 1')
    ).rows.map((r) => r.queue_name);
    const relations = (
      await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'pgmq'",
      )
    ).rows[0]?.n;
    return { queues, relations: relations ?? -1 };
  }

  it.each(INVALID)('the client refuses %j before any SQL and creates nothing', async (name) => {
    const before = await footprint();
    await expect(client.createQueue(name)).rejects.toMatchObject({ code: 'QUEUE_NAME_INVALID' });
    await expect(client.createQueue(name, { unlogged: true })).rejects.toMatchObject({
      code: 'QUEUE_NAME_INVALID',
    });
    await expect(client.send(name, { a: 1 })).rejects.toMatchObject({ code: 'QUEUE_NAME_INVALID' });
    await expect(client.read(name, { vtSeconds: 1, qty: 1 })).rejects.toMatchObject({
      code: 'QUEUE_NAME_INVALID',
    });
    await expect(client.dropQueue(name)).rejects.toMatchObject({ code: 'QUEUE_NAME_INVALID' });
    expect(await footprint()).toEqual(before);
  });

  it.each(INVALID)('the SQL functions refuse %j too, whatever the client', async (name) => {
    const before = await footprint();
    for (const sql of [
      'SELECT pgmq.create($1)',
      'SELECT pgmq.create_unlogged($1)',
      "SELECT pgmq.send($1, '{}'::jsonb)",
      "SELECT pgmq.send_batch($1, ARRAY['{}'::jsonb])",
      'SELECT * FROM pgmq.read($1, 1, 1)',
      'SELECT pgmq.purge_queue($1)',
      'SELECT pgmq.drop_queue($1)',
      'SELECT pgmq.metrics($1)',
    ]) {
      const error = await t.db.query(sql, [name]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, sql).toMatchObject({ code: '42602' });
      expect((error as Error).message, sql).toMatch(/invalid queue name/);
    }
    expect(await footprint()).toEqual(before);
    expect((await t.db.query('SELECT id FROM public.canary')).rows).toEqual([{ id: 1 }]);
  });

  it('accepts the longest allowed name and derives identifiers that fit', async () => {
    const name = `q${'x'.repeat(MAX_QUEUE_NAME_LENGTH - 1)}`;
    await client.createQueue(name);
    const { rows } = await t.db.query<{ relname: string }>(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'pgmq' AND c.relname LIKE $1 ORDER BY 1",
      [`%${name}%`],
    );
    expect(rows.map((r) => r.relname)).toEqual(
      [
        `a_${name}`,
        `a_${name}_pkey`,
        `archived_at_idx_${name}`,
        `q_${name}`,
        `q_${name}_msg_id_seq`,
        `q_${name}_pkey`,
        `q_${name}_vt_idx`,
      ].sort(),
    );
    expect(await client.dropQueue(name)).toBe(true);
  });
});
