/**
 * pgmq 1.5 compatibility suite: drives the SQL API directly, as a pgmq client in any language
 * would, and checks the table layout through information_schema. Runs on the real server and on
 * embedded PostgreSQL, against whichever pgmq migrate installed (the bundled SQL here).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import {
  itOnServer,
  DATABASE_KINDS,
  createTestDatabase,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';

interface MessageRow {
  msg_id: number;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  message: unknown;
  headers: unknown;
}

/** Every public function of pgmq 1.5 that the bundled SQL provides, with its result type. */
const SIGNATURES: [string, string][] = [
  ['pgmq.create(text)', 'void'],
  ['pgmq.create_non_partitioned(text)', 'void'],
  ['pgmq.create_unlogged(text)', 'void'],
  ['pgmq.create_partitioned(text,text,text)', 'void'],
  ['pgmq.drop_queue(text)', 'boolean'],
  ['pgmq.drop_queue(text,boolean)', 'boolean'],
  ['pgmq.detach_archive(text)', 'void'],
  ['pgmq.purge_queue(text)', 'bigint'],
  ['pgmq.list_queues()', 'SETOF pgmq.queue_record'],
  ['pgmq.send(text,jsonb)', 'SETOF bigint'],
  ['pgmq.send(text,jsonb,jsonb)', 'SETOF bigint'],
  ['pgmq.send(text,jsonb,integer)', 'SETOF bigint'],
  ['pgmq.send(text,jsonb,timestamp with time zone)', 'SETOF bigint'],
  ['pgmq.send(text,jsonb,jsonb,integer)', 'SETOF bigint'],
  ['pgmq.send(text,jsonb,jsonb,timestamp with time zone)', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[])', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[],jsonb[])', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[],integer)', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[],timestamp with time zone)', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[],jsonb[],integer)', 'SETOF bigint'],
  ['pgmq.send_batch(text,jsonb[],jsonb[],timestamp with time zone)', 'SETOF bigint'],
  ['pgmq.read(text,integer,integer,jsonb)', 'SETOF pgmq.message_record'],
  ['pgmq.read_with_poll(text,integer,integer,integer,integer,jsonb)', 'SETOF pgmq.message_record'],
  ['pgmq.pop(text)', 'SETOF pgmq.message_record'],
  ['pgmq.set_vt(text,bigint,integer)', 'SETOF pgmq.message_record'],
  ['pgmq.delete(text,bigint)', 'boolean'],
  ['pgmq.delete(text,bigint[])', 'SETOF bigint'],
  ['pgmq.archive(text,bigint)', 'boolean'],
  ['pgmq.archive(text,bigint[])', 'SETOF bigint'],
  ['pgmq.metrics(text)', 'pgmq.metrics_result'],
  ['pgmq.metrics_all()', 'SETOF pgmq.metrics_result'],
  ['pgmq.validate_queue_name(text)', 'void'],
  ['pgmq.format_table_name(text,text)', 'text'],
];

const QUEUE_COLUMNS = [
  ['msg_id', 'bigint', 'NO'],
  ['read_ct', 'integer', 'NO'],
  ['enqueued_at', 'timestamp with time zone', 'NO'],
  ['vt', 'timestamp with time zone', 'NO'],
  ['message', 'jsonb', 'YES'],
  ['headers', 'jsonb', 'YES'],
];
const ARCHIVE_COLUMNS = [
  ['msg_id', 'bigint', 'NO'],
  ['read_ct', 'integer', 'NO'],
  ['enqueued_at', 'timestamp with time zone', 'NO'],
  ['archived_at', 'timestamp with time zone', 'NO'],
  ['vt', 'timestamp with time zone', 'NO'],
  ['message', 'jsonb', 'YES'],
  ['headers', 'jsonb', 'YES'],
];

describe.each(DATABASE_KINDS)('pgmq 1.5 compatibility on %s', (kind) => {
  let t: TestDatabase;
  let db: Queryable;
  let counter = 0;

  /** A fresh queue for one test, created the way any pgmq client would. */
  async function queue(create = 'pgmq.create'): Promise<string> {
    counter += 1;
    const name = `compat_${counter}`;
    await db.query(`SELECT ${create}($1)`, [name]);
    return name;
  }

  async function send(q: string, message: unknown): Promise<number> {
    const { rows } = await db.query<{ id: number }>('SELECT pgmq.send($1, $2::jsonb) AS id', [
      q,
      JSON.stringify(message),
    ]);
    return rows[0]!.id;
  }

  async function read(q: string, vt: number, qty: number, conditional?: unknown): Promise<MessageRow[]> {
    const sql =
      conditional === undefined
        ? 'SELECT * FROM pgmq.read($1, $2, $3) ORDER BY msg_id'
        : 'SELECT * FROM pgmq.read($1, $2, $3, $4::jsonb) ORDER BY msg_id';
    const params = conditional === undefined ? [q, vt, qty] : [q, vt, qty, JSON.stringify(conditional)];
    return (await db.query<MessageRow>(sql, params)).rows;
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    return (await db.query<{ n: number }>(`SELECT (${sql})::int AS n`, params)).rows[0]!.n;
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.db;
  });
  afterAll(() => t.dispose());
  beforeEach(keepDatabaseOnFailure);

  describe('layout', () => {
    it('provides every pgmq 1.5 function with its result type', async () => {
      for (const [signature, result] of SIGNATURES) {
        const { rows } = await db.query<{ result: string | null }>(
          'SELECT pg_get_function_result(to_regprocedure($1)) AS result',
          [signature],
        );
        expect(rows[0]?.result, signature).toBe(result);
      }
    });

    it('creates q_ and a_ tables with pgmq columns, identity, indexes and a meta row', async () => {
      const q = await queue();
      const columns = async (table: string): Promise<string[][]> =>
        (
          await db.query<{ column_name: string; data_type: string; is_nullable: string }>(
            `SELECT column_name, data_type, is_nullable FROM information_schema.columns
              WHERE table_schema = 'pgmq' AND table_name = $1 ORDER BY ordinal_position`,
            [table],
          )
        ).rows.map((r) => [r.column_name, r.data_type, r.is_nullable]);
      expect(await columns(`q_${q}`)).toEqual(QUEUE_COLUMNS);
      expect(await columns(`a_${q}`)).toEqual(ARCHIVE_COLUMNS);

      const identity = await db.query<{ is_identity: string; identity_generation: string }>(
        `SELECT is_identity, identity_generation FROM information_schema.columns
          WHERE table_schema = 'pgmq' AND table_name = $1 AND column_name = 'msg_id'`,
        [`q_${q}`],
      );
      expect(identity.rows).toEqual([{ is_identity: 'YES', identity_generation: 'ALWAYS' }]);

      const indexes = await db.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'pgmq' AND tablename IN ($1, $2) ORDER BY 1",
        [`q_${q}`, `a_${q}`],
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual(
        [`a_${q}_pkey`, `archived_at_idx_${q}`, `q_${q}_pkey`, `q_${q}_vt_idx`].sort(),
      );
      expect(indexes.rows.find((r) => r.indexname === `q_${q}_vt_idx`)?.indexdef).toMatch(/\(vt\)/);
      expect(indexes.rows.find((r) => r.indexname === `archived_at_idx_${q}`)?.indexdef).toMatch(
        /\(archived_at\)/,
      );

      const meta = await db.query('SELECT is_partitioned, is_unlogged FROM pgmq.meta WHERE queue_name = $1', [
        q,
      ]);
      expect(meta.rows).toEqual([{ is_partitioned: false, is_unlogged: false }]);
      expect(
        await count("SELECT count(*) FROM pg_class WHERE relname = $1 AND relkind = 'S'", [
          `q_${q}_msg_id_seq`,
        ]),
      ).toBe(1);
    });

    it('has pgmq.meta and the three record types with pgmq attribute order', async () => {
      const columns = await db.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'pgmq' AND table_name = 'meta' ORDER BY ordinal_position",
      );
      expect(columns.rows.map((r) => r.column_name)).toEqual([
        'queue_name',
        'is_partitioned',
        'is_unlogged',
        'created_at',
      ]);
      const attributes = async (type: string): Promise<string[]> =>
        (
          await db.query<{ attribute_name: string }>(
            `SELECT attribute_name FROM information_schema.attributes
              WHERE udt_schema = 'pgmq' AND udt_name = $1 ORDER BY ordinal_position`,
            [type],
          )
        ).rows.map((r) => r.attribute_name);
      expect(await attributes('message_record')).toEqual([
        'msg_id',
        'read_ct',
        'enqueued_at',
        'vt',
        'message',
        'headers',
      ]);
      expect(await attributes('queue_record')).toEqual([
        'queue_name',
        'is_partitioned',
        'is_unlogged',
        'created_at',
      ]);
      expect(await attributes('metrics_result')).toEqual([
        'queue_name',
        'queue_length',
        'newest_msg_age_sec',
        'oldest_msg_age_sec',
        'total_messages',
        'scrape_time',
        'queue_visible_length',
      ]);
    });

    it('create is idempotent and create_unlogged makes an unlogged queue table', async () => {
      const q = await queue();
      await db.query('SELECT pgmq.create($1)', [q]);
      expect(await count('SELECT count(*) FROM pgmq.meta WHERE queue_name = $1', [q])).toBe(1);

      const u = await queue('pgmq.create_unlogged');
      const persistence = await db.query<{ relname: string; relpersistence: string }>(
        'SELECT relname, relpersistence FROM pg_class WHERE relname IN ($1, $2) ORDER BY relname',
        [`q_${u}`, `a_${u}`],
      );
      expect(persistence.rows).toEqual([
        { relname: `a_${u}`, relpersistence: 'p' },
        { relname: `q_${u}`, relpersistence: 'u' },
      ]);
      const listed = await db.query(
        'SELECT queue_name, is_unlogged FROM pgmq.list_queues() WHERE queue_name IN ($1, $2) ORDER BY 1',
        [q, u],
      );
      expect(listed.rows).toEqual([
        { queue_name: q, is_unlogged: false },
        { queue_name: u, is_unlogged: true },
      ]);
    });

    it('drop_queue removes tables and meta row, and says false for a missing queue', async () => {
      const q = await queue();
      await send(q, { a: 1 });
      expect((await db.query('SELECT pgmq.drop_queue($1) AS dropped', [q])).rows).toEqual([
        { dropped: true },
      ]);
      expect(
        await count('SELECT count(*) FROM pg_class WHERE relname IN ($1, $2)', [`q_${q}`, `a_${q}`]),
      ).toBe(0);
      expect(await count('SELECT count(*) FROM pgmq.meta WHERE queue_name = $1', [q])).toBe(0);
      expect((await db.query('SELECT pgmq.drop_queue($1) AS dropped', [q])).rows).toEqual([
        { dropped: false },
      ]);
    });

    it('refuses partitioned queues clearly and creates nothing', async () => {
      const refused = db.query("SELECT pgmq.create_partitioned('compat_parted')");
      await expect(refused).rejects.toMatchObject({ code: '0A000' });
      await expect(refused).rejects.toThrow(/partitioned queues are not supported/);
      expect(await count("SELECT count(*) FROM pgmq.meta WHERE queue_name = 'compat_parted'")).toBe(0);
    });
  });

  describe('messages', () => {
    it('read hides messages for vt seconds and counts reads; set_vt makes them visible again', async () => {
      const q = await queue();
      const id = await send(q, { n: 1 });
      const first = await read(q, 30, 10);
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ msg_id: id, read_ct: 1, message: { n: 1 }, headers: null });
      expect(first[0]!.vt.getTime()).toBeGreaterThan(first[0]!.enqueued_at.getTime() + 25_000);
      expect(await read(q, 30, 10)).toEqual([]);

      const reset = await db.query<MessageRow>('SELECT * FROM pgmq.set_vt($1, $2, 0)', [q, id]);
      expect(reset.rows[0]).toMatchObject({ msg_id: id, read_ct: 1 });
      expect((await read(q, 30, 10))[0]).toMatchObject({ msg_id: id, read_ct: 2 });
      expect((await db.query('SELECT * FROM pgmq.set_vt($1, 999999, 0)', [q])).rows).toEqual([]);
    });

    it('a zero visibility timeout leaves the message visible to the next read', async () => {
      const q = await queue();
      const id = await send(q, { n: 1 });
      expect((await read(q, 0, 1))[0]).toMatchObject({ msg_id: id, read_ct: 1 });
      expect((await read(q, 0, 1))[0]).toMatchObject({ msg_id: id, read_ct: 2 });
    });

    it('read returns the oldest first and at most qty, filtered by conditional', async () => {
      const q = await queue();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push(await send(q, { i, kind: i % 2 === 0 ? 'even' : 'odd' }));
      expect((await read(q, 30, 1, { kind: 'odd' })).map((r) => r.msg_id)).toEqual([ids[1]]);
      expect((await read(q, 30, 2)).map((r) => r.msg_id)).toEqual([ids[0], ids[2]]);
      expect((await read(q, 30, 10)).map((r) => r.msg_id)).toEqual([ids[3], ids[4]]);
    });

    it('delay (seconds or a timestamp) keeps a message invisible until then', async () => {
      const q = await queue();
      const later = (
        await db.query<{ id: number }>('SELECT pgmq.send($1, \'{"d":1}\'::jsonb, 3600) AS id', [q])
      ).rows[0]!.id;
      await db.query("SELECT pgmq.send($1, '{\"d\":2}'::jsonb, now() + interval '1 hour')", [q]);
      await db.query('SELECT pgmq.send($1, \'{"d":3}\'::jsonb, \'{"h":1}\'::jsonb, 3600)', [q]);
      const now = (
        await db.query<{ id: number }>(
          "SELECT pgmq.send($1, '{\"d\":4}'::jsonb, now() - interval '1 second') AS id",
          [q],
        )
      ).rows[0]!.id;
      expect((await read(q, 30, 10)).map((r) => r.msg_id)).toEqual([now]);

      const metrics = await db.query('SELECT queue_length, queue_visible_length FROM pgmq.metrics($1)', [q]);
      expect(metrics.rows).toEqual([{ queue_length: 4, queue_visible_length: 0 }]);
      await db.query('SELECT pgmq.set_vt($1, $2, 0)', [q, later]);
      expect((await read(q, 30, 10)).map((r) => r.message)).toEqual([{ d: 1 }]);
    });

    it('headers travel with the message through read, pop and archive', async () => {
      const q = await queue();
      const id = (
        await db.query<{ id: number }>('SELECT pgmq.send($1, $2::jsonb, $3::jsonb) AS id', [
          q,
          JSON.stringify({ body: 1 }),
          JSON.stringify({ trace: 'abc' }),
        ])
      ).rows[0]!.id;
      expect((await read(q, 0, 1))[0]).toMatchObject({ msg_id: id, headers: { trace: 'abc' } });
      await db.query('SELECT pgmq.archive($1, $2::bigint)', [q, id]);
      const archived = await db.query(`SELECT headers, message, read_ct FROM pgmq.a_${q} WHERE msg_id = $1`, [
        id,
      ]);
      expect(archived.rows).toEqual([{ headers: { trace: 'abc' }, message: { body: 1 }, read_ct: 1 }]);

      await db.query('SELECT pgmq.send($1, \'{"p":1}\'::jsonb, \'{"h":2}\'::jsonb)', [q]);
      const popped = await db.query<MessageRow>('SELECT * FROM pgmq.pop($1)', [q]);
      expect(popped.rows[0]).toMatchObject({ message: { p: 1 }, headers: { h: 2 } });
    });

    it('send_batch returns ids in order, with and without headers and delay', async () => {
      const q = await queue();
      const messages = [{ b: 1 }, { b: 2 }, { b: 3 }].map((m) => JSON.stringify(m));
      const plain = await db.query<{ id: number }>('SELECT * FROM pgmq.send_batch($1, $2::jsonb[]) AS id', [
        q,
        messages,
      ]);
      const ids = plain.rows.map((r) => r.id);
      expect(ids).toHaveLength(3);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);

      const withHeaders = await db.query<{ id: number }>(
        'SELECT * FROM pgmq.send_batch($1, $2::jsonb[], $3::jsonb[]) AS id',
        [q, messages.slice(0, 2), [JSON.stringify({ h: 'x' }), null]],
      );
      expect(withHeaders.rows).toHaveLength(2);
      await db.query('SELECT * FROM pgmq.send_batch($1, $2::jsonb[], 3600)', [q, messages]);
      await db.query('SELECT * FROM pgmq.send_batch($1, $2::jsonb[], $3::jsonb[], 3600)', [
        q,
        messages,
        messages,
      ]);

      const visible = await read(q, 30, 100);
      expect(visible.map((r) => r.msg_id)).toEqual([...ids, ...withHeaders.rows.map((r) => r.id)]);
      expect(visible.map((r) => r.message)).toEqual([{ b: 1 }, { b: 2 }, { b: 3 }, { b: 1 }, { b: 2 }]);
      expect(visible.map((r) => r.headers)).toEqual([null, null, null, { h: 'x' }, null]);
      expect(await count(`SELECT count(*) FROM pgmq.q_${q}`)).toBe(11);

      await expect(
        db.query('SELECT * FROM pgmq.send_batch($1, $2::jsonb[], $3::jsonb[])', [
          q,
          messages,
          messages.slice(0, 1),
        ]),
      ).rejects.toThrow(/1 headers for 3 messages/);
    });

    it('pop takes the oldest visible message and deletes it, leaving read_ct alone', async () => {
      const q = await queue();
      const first = await send(q, { n: 1 });
      const second = await send(q, { n: 2 });
      await read(q, 30, 1); // hides `first`
      const popped = await db.query<MessageRow>('SELECT * FROM pgmq.pop($1)', [q]);
      expect(popped.rows).toHaveLength(1);
      expect(popped.rows[0]).toMatchObject({ msg_id: second, read_ct: 0, message: { n: 2 } });
      expect(await count(`SELECT count(*) FROM pgmq.q_${q}`)).toBe(1);
      expect((await db.query('SELECT * FROM pgmq.pop($1)', [q])).rows).toEqual([]);
      expect(first).toBeLessThan(second);
    });

    it('delete removes one or many and reports which existed', async () => {
      const q = await queue();
      const ids = [await send(q, 1), await send(q, 2), await send(q, 3)];
      expect((await db.query('SELECT pgmq.delete($1, $2::bigint) AS ok', [q, ids[0]])).rows).toEqual([
        { ok: true },
      ]);
      expect((await db.query('SELECT pgmq.delete($1, $2::bigint) AS ok', [q, ids[0]])).rows).toEqual([
        { ok: false },
      ]);
      const many = await db.query<{ id: number }>(
        'SELECT * FROM pgmq.delete($1, $2::bigint[]) AS id ORDER BY 1',
        [q, [ids[0], ids[1], ids[2], 424242]],
      );
      expect(many.rows.map((r) => r.id)).toEqual([ids[1], ids[2]]);
      expect(await count(`SELECT count(*) FROM pgmq.q_${q}`)).toBe(0);
      expect(await count(`SELECT count(*) FROM pgmq.a_${q}`)).toBe(0);
    });

    it('archive moves one or many to a_<queue> with archived_at, keeping the row', async () => {
      const q = await queue();
      const ids = [await send(q, { a: 1 }), await send(q, { a: 2 }), await send(q, { a: 3 })];
      await read(q, 0, 1);
      expect((await db.query('SELECT pgmq.archive($1, $2::bigint) AS ok', [q, ids[0]])).rows).toEqual([
        { ok: true },
      ]);
      expect((await db.query('SELECT pgmq.archive($1, $2::bigint) AS ok', [q, ids[0]])).rows).toEqual([
        { ok: false },
      ]);
      const many = await db.query<{ id: number }>(
        'SELECT * FROM pgmq.archive($1, $2::bigint[]) AS id ORDER BY 1',
        [q, [ids[1], ids[2], 424242]],
      );
      expect(many.rows.map((r) => r.id)).toEqual([ids[1], ids[2]]);
      const archived = await db.query<{
        msg_id: number;
        read_ct: number;
        message: unknown;
        archived_at: Date | null;
      }>(`SELECT msg_id, read_ct, message, archived_at FROM pgmq.a_${q} ORDER BY msg_id`);
      expect(archived.rows.map((r) => [r.msg_id, r.read_ct, r.message])).toEqual([
        [ids[0], 1, { a: 1 }],
        [ids[1], 0, { a: 2 }],
        [ids[2], 0, { a: 3 }],
      ]);
      expect(archived.rows.every((r) => r.archived_at instanceof Date)).toBe(true);
      expect(await count(`SELECT count(*) FROM pgmq.q_${q}`)).toBe(0);
    });

    it('purge_queue empties the queue, not its archive, and returns the count', async () => {
      const q = await queue();
      const id = await send(q, 1);
      await send(q, 2);
      await send(q, 3);
      await db.query('SELECT pgmq.archive($1, $2::bigint)', [q, id]);
      expect((await db.query('SELECT pgmq.purge_queue($1) AS n', [q])).rows).toEqual([{ n: 2 }]);
      expect(await count(`SELECT count(*) FROM pgmq.q_${q}`)).toBe(0);
      expect(await count(`SELECT count(*) FROM pgmq.a_${q}`)).toBe(1);
    });

    it('metrics and metrics_all count messages, visible ones and all ever sent', async () => {
      const q = await queue();
      const empty = await db.query('SELECT * FROM pgmq.metrics($1)', [q]);
      expect(empty.rows[0]).toMatchObject({
        queue_name: q,
        queue_length: 0,
        queue_visible_length: 0,
        total_messages: 0,
        newest_msg_age_sec: null,
        oldest_msg_age_sec: null,
      });
      const id = await send(q, 1);
      await send(q, 2);
      await send(q, 3);
      await read(q, 30, 1);
      await db.query('SELECT pgmq.delete($1, $2::bigint)', [q, id + 2]);
      const metrics = await db.query('SELECT * FROM pgmq.metrics($1)', [q]);
      expect(metrics.rows[0]).toMatchObject({
        queue_name: q,
        queue_length: 2,
        queue_visible_length: 1,
        total_messages: 3,
      });
      expect((metrics.rows[0] as { scrape_time: unknown }).scrape_time).toBeInstanceOf(Date);
      expect((metrics.rows[0] as { oldest_msg_age_sec: number }).oldest_msg_age_sec).toBeGreaterThanOrEqual(
        0,
      );

      const all = await db.query<{ queue_name: string; queue_length: number }>(
        'SELECT queue_name, queue_length FROM pgmq.metrics_all()',
      );
      expect(all.rows).toContainEqual({ queue_name: q, queue_length: 2 });
      const queues = await count('SELECT count(*) FROM pgmq.meta');
      expect(all.rows).toHaveLength(queues);
    });

    it('read_with_poll returns at once when a message is there', async () => {
      const q = await queue();
      const id = await send(q, { p: 1 });
      const rows = (await db.query<MessageRow>('SELECT * FROM pgmq.read_with_poll($1, 30, 5, 1, 10)', [q]))
        .rows;
      expect(rows.map((r) => r.msg_id)).toEqual([id]);
    });

    it('sending to a queue that does not exist fails and creates nothing', async () => {
      await expect(send('compat_missing', { a: 1 })).rejects.toMatchObject({ code: '42P01' });
      expect(await count("SELECT count(*) FROM pgmq.meta WHERE queue_name = 'compat_missing'")).toBe(0);
    });
  });

  describe('concurrent consumers', () => {
    it('never hand the same visible message to two readers', async () => {
      const q = await queue();
      const total = 300;
      await db.query('SELECT pgmq.send_batch($1, $2::jsonb[])', [
        q,
        Array.from({ length: total }, (_, i) => JSON.stringify({ i })),
      ]);
      const reader = async (): Promise<number[]> => {
        const got: number[] = [];
        for (;;) {
          const rows = await read(q, 120, 7);
          if (rows.length === 0) return got;
          got.push(...rows.map((r) => r.msg_id));
        }
      };
      const results = await Promise.all(Array.from({ length: 6 }, reader));
      const all = results.flat();
      expect(all).toHaveLength(total);
      expect(new Set(all).size).toBe(total);
      expect(await count(`SELECT count(*) FROM pgmq.q_${q} WHERE read_ct <> 1`)).toBe(0);
    });

    itOnServer(kind)('skip rows locked by an open transaction instead of waiting for it', async () => {
      const q = await queue();
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) ids.push(await send(q, { i }));
      await t.db.transaction(async (tx) => {
        const inTx = await tx.query<MessageRow>('SELECT * FROM pgmq.read($1, 30, 3) ORDER BY msg_id', [q]);
        expect(inTx.rows.map((r) => r.msg_id)).toEqual(ids.slice(0, 3));
        // Another connection while the first still holds its row locks: without SKIP LOCKED this
        // would block on them and the test would never finish.
        const outside = await read(q, 30, 10);
        expect(outside.map((r) => r.msg_id)).toEqual(ids.slice(3));
      });
    });
  });

  it('the bundled SQL can be installed again over itself (migrate may re-run it)', async (ctx) => {
    if ((await count("SELECT count(*) FROM pg_extension WHERE extname = 'pgmq'")) > 0) ctx.skip();
    const { readFile } = await import('node:fs/promises');
    const sql = await readFile(new URL('../../sql/pgmq/pgmq-compat.sql', import.meta.url), 'utf8');
    const q = await queue();
    const id = await send(q, { keep: true });
    await db.exec(sql);
    await db.exec(sql);
    expect((await read(q, 30, 1))[0]).toMatchObject({ msg_id: id, message: { keep: true } });
  });
});
