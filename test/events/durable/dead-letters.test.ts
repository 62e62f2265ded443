/**
 * Poison events and the dead-letter queue: after `max_delivery_attempts` failed deliveries an
 * event moves to `<ns>_domain_events_dlq`; `tasker events dlq list|show|replay|purge` inspect
 * and repair it (a consumer process on the real server); replay delivers a fixed event once,
 * in its declared mode, and is recorded; `dlq_enabled = false` drops instead; dead letters past
 * `dlq_retention_days` are purged, directly and by the runtime's periodic purge (both databases).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureNamespaceQueues } from '../../../src/engine/namespace-queues.js';
import { deadLetterQueue } from '../../../src/engine/queues.js';
import {
  listDeadLetters,
  purgeExpiredDeadLetters,
  replayDeadLetters,
  type DeadLetter,
  type DeadLetterBody,
} from '../../../src/events/domain/dead-letters.js';
import type { DomainEvent } from '../../../src/events/domain/envelope.js';
import type { EventRuntime } from '../../../src/events/domain/event-runtime.js';
import { PgmqClient } from '../../../src/messaging/pgmq-client.js';
import { EFFECTS_TABLE_SQL, fixedFlag } from '../../fixtures/durable/subscribers.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../../helpers/databases.js';
import { runTasker, spawnTasker } from '../../engine/support/processes.js';
import {
  drained,
  effectsOf,
  eventually,
  FAST_DELIVERY,
  FIXTURE_MODULE,
  makeEvents,
  makeScratch,
  publish,
  queueCounts,
  subscriberQueues,
  type Scratch,
  useProcessWorld,
} from './support/harness.js';
import { startFixtureRuntime, type FixtureState } from './support/in-process.js';

const NS = 'durable_dlq';
const DLQ = deadLetterQueue(NS);

function expectDeadLetter(letter: DeadLetter | undefined, event: DomainEvent): void {
  expect(Object.keys(letter ?? {}).sort()).toEqual([
    'attempts',
    'dead_at',
    'event',
    'last_error',
    'msg_id',
    'subscriber',
  ]);
  expect(letter).toMatchObject({
    event,
    subscriber: 'ledger',
    attempts: FAST_DELIVERY.max_delivery_attempts,
    last_error: `Error: ledger refuses poison event ${(event.payload as { n: number }).n}`,
  });
  expect(Number.isInteger(letter!.msg_id)).toBe(true);
  expect(new Date(letter!.dead_at).toISOString()).toBe(letter!.dead_at);
}

async function dlqLength(db: TestDatabase['db']): Promise<number> {
  return (await queueCounts(db, DLQ)).live;
}

describe('tasker events dlq with a consumer process (real server)', { timeout: 240_000 }, () => {
  const world = useProcessWorld(FAST_DELIVERY);

  async function tasker(...args: string[]): Promise<string> {
    const result = await runTasker(args, world().env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  }

  async function listJson(): Promise<DeadLetter[]> {
    return JSON.parse(await tasker('events', 'dlq', 'list', '--namespace', NS, '--json')) as DeadLetter[];
  }

  it('dead-letters a poison event, lists it, replays it once fixed, purges', async () => {
    const db = world().db;
    const consumer = spawnTasker(
      ['events', 'consume', '--handlers', FIXTURE_MODULE, '--namespace', NS],
      world().env,
    );
    await consumer.waitForOutput(/running; SIGTERM/);
    const [acknowledged] = makeEvents(NS, 1, { fail: ['ledger'] }, 1);
    const [durable] = makeEvents(NS, 1, { fail: ['ledger'] }, 2);
    await publish(db, NS, [acknowledged!], 'acknowledged');
    await publish(db, NS, [durable!], 'durable');
    await eventually('two dead letters', async () => ((await dlqLength(db)) === 2 ? true : undefined));

    // Listed oldest first; the two die independently, in either order.
    const letters = await listJson();
    expect(letters.map((letter) => letter.msg_id)).toEqual(
      letters.map((letter) => letter.msg_id).sort((a, b) => a - b),
    );
    const byEvent = new Map(letters.map((letter) => [letter.event.id, letter]));
    expect(byEvent.size).toBe(2);
    expectDeadLetter(byEvent.get(acknowledged!.id), acknowledged!);
    expectDeadLetter(byEvent.get(durable!.id), durable!);
    // The other subscriber is unaffected: it handled each event once.
    for (const event of [acknowledged!, durable!]) {
      expect((await effectsOf(db, event.id)).map((row) => row.subscriber)).toEqual(['mailer']);
    }
    const ackLetter = byEvent.get(acknowledged!.id)!;
    const shown = JSON.parse(
      await tasker('events', 'dlq', 'show', String(ackLetter.msg_id), '--namespace', NS),
    ) as DeadLetter;
    expect(shown).toEqual(ackLetter);
    const plain = await tasker('events', 'dlq', 'list', '--namespace', NS);
    expect(plain.trim().split('\n')).toHaveLength(2);
    expect(plain).toContain(`subscriber=ledger  attempts=3  Error: ledger refuses poison event 1\n`);

    // Fix the handler, then replay: one by id, the other by pattern.
    writeFileSync(fixedFlag(world().scratch.dir), '');
    expect(await tasker('events', 'dlq', 'replay', String(ackLetter.msg_id), '--namespace', NS)).toBe(
      `replayed 1 from ${DLQ}\n`,
    );
    expect(await tasker('events', 'dlq', 'replay', '--pattern', 'order.#', '--namespace', NS)).toBe(
      `replayed 1 from ${DLQ}\n`,
    );
    await eventually('the replays to be delivered', async () => ((await drained(db, NS)) ? true : undefined));
    // Delivered once each, attempts reset, in the mode the event was declared with.
    expect(await effectsOf(db, acknowledged!.id)).toEqual([
      { subscriber: 'ledger', attempt: 1, delivery: 'acknowledged', pid: consumer.pid },
      { subscriber: 'mailer', attempt: 1, delivery: 'acknowledged', pid: consumer.pid },
    ]);
    expect(await effectsOf(db, durable!.id)).toEqual([
      { subscriber: 'ledger', attempt: 1, delivery: 'durable', pid: consumer.pid },
      { subscriber: 'mailer', attempt: 1, delivery: 'durable', pid: consumer.pid },
    ]);
    const acks = await db.query(
      'SELECT subscriber_id FROM tasker.event_acknowledgements WHERE event_id = $1 ORDER BY subscriber_id',
      [acknowledged!.id],
    );
    expect(acks.rows).toEqual([{ subscriber_id: 'ledger' }, { subscriber_id: 'mailer' }]);
    const replays = await db.query<Record<string, unknown>>(
      `SELECT namespace, dlq_msg_id, event_id, subscriber_id, requeued_msg_id > 0 AS requeued
         FROM tasker.dead_letter_replays ORDER BY id`,
    );
    expect(replays.rows).toEqual(
      [ackLetter, byEvent.get(durable!.id)!].map((letter) => ({
        namespace: NS,
        dlq_msg_id: letter.msg_id,
        event_id: letter.event.id,
        subscriber_id: 'ledger',
        requeued: true,
      })),
    );
    expect(await listJson()).toEqual([]);

    // A new poison event, purged for good.
    rmSync(fixedFlag(world().scratch.dir));
    const [poison] = makeEvents(NS, 1, { fail: ['ledger'] }, 3);
    await publish(db, NS, [poison!], 'acknowledged');
    await eventually('the new dead letter', async () => ((await dlqLength(db)) === 1 ? true : undefined));
    const before = await queueCounts(db, DLQ);
    expect(await tasker('events', 'dlq', 'purge', '--all', '--namespace', NS)).toBe(`purged 1 from ${DLQ}\n`);
    expect(await queueCounts(db, DLQ)).toEqual({ live: 0, archived: before.archived });
    expect(await listJson()).toEqual([]);
  });

  it('refuses bad dlq commands with one line', async () => {
    await ensureNamespaceQueues(world().db, NS);
    const none = await runTasker(['events', 'dlq', 'replay', '--namespace', NS], world().env);
    expect([none.code, none.stderr]).toEqual([
      1,
      'tasker: events dlq replay: give message ids, --pattern PATTERN or --all\n',
    ]);
    const missing = await runTasker(['events', 'dlq', 'show', '424242', '--namespace', NS], world().env);
    expect([missing.code, missing.stderr]).toEqual([1, `tasker: no dead letter 424242 in ${DLQ}\n`]);
  });
});

describe.each(DATABASE_KINDS)('dead letters in process on %s', { timeout: 120_000 }, (kind) => {
  let testDb: TestDatabase | undefined;
  let runtime: EventRuntime | undefined;
  const scratches: Scratch[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    await testDb.db.exec(EFFECTS_TABLE_SQL);
  }, 60_000);

  beforeEach(async () => {
    keepDatabaseOnFailure();
    await testDb!.db.exec('TRUNCATE durable_effects');
    await ensureNamespaceQueues(testDb!.db, NS);
    await testDb!.db.query('SELECT pgmq.purge_queue($1)', [DLQ]);
  });

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  afterAll(async () => {
    await testDb?.dispose();
    for (const scratch of scratches) scratch.cleanup();
  });

  function start(overrides: Parameters<typeof makeScratch>[0], state: FixtureState): Promise<EventRuntime> {
    const scratch = makeScratch(overrides);
    scratches.push(scratch);
    return startFixtureRuntime(testDb!.db, NS, scratch.configRoot, state);
  }

  it('replays a fixed acknowledged event once, as acknowledged', async () => {
    const db = testDb!.db;
    const state = { fixed: false };
    runtime = await start(FAST_DELIVERY, state);
    const [event] = makeEvents(NS, 1, { fail: ['ledger'] }, 10);
    await publish(db, NS, [event!], 'acknowledged');
    await eventually('the dead letter', async () => ((await dlqLength(db)) === 1 ? true : undefined));
    expectDeadLetter((await listDeadLetters(db, NS))[0], event!);
    state.fixed = true;
    const replayed = await replayDeadLetters(db, new PgmqClient(db), NS, {
      ids: [(await listDeadLetters(db, NS))[0]!.msg_id],
    });
    expect(replayed.map((letter) => letter.event.id)).toEqual([event!.id]);
    await eventually('the replay to be delivered', async () => ((await drained(db, NS)) ? true : undefined));
    expect(
      (await effectsOf(db, event!.id)).map(({ subscriber, attempt, delivery }) => ({
        subscriber,
        attempt,
        delivery,
      })),
    ).toEqual([
      { subscriber: 'ledger', attempt: 1, delivery: 'acknowledged' },
      { subscriber: 'mailer', attempt: 1, delivery: 'acknowledged' },
    ]);
    expect(await listDeadLetters(db, NS)).toEqual([]);
  });

  it('drops the event after its last attempt when dlq_enabled is false', async () => {
    const db = testDb!.db;
    runtime = await start({ ...FAST_DELIVERY, dlq_enabled: false }, { fixed: false });
    const [event] = makeEvents(NS, 1, { fail: ['ledger'] }, 20);
    await publish(db, NS, [event!], 'durable');
    const ledgerQueue = (await subscriberQueues(db, NS)).ledger!;
    const before = await queueCounts(db, ledgerQueue);
    await eventually('the ledger to give up', async () =>
      (await queueCounts(db, ledgerQueue)).archived > before.archived && (await drained(db, NS))
        ? true
        : undefined,
    );
    expect(await dlqLength(db)).toBe(0);
    expect((await effectsOf(db, event!.id)).map((row) => row.subscriber)).toEqual(['mailer']);
  });

  it('purges dead letters older than dlq_retention_days, directly and at runtime start', async () => {
    const db = testDb!.db;
    const queue = new PgmqClient(db);
    const letter = (n: number): DeadLetterBody => ({
      event: makeEvents(NS, 1, {}, n)[0]!,
      subscriber: 'ledger',
      attempts: 3,
      last_error: 'Error: test',
      dead_at: new Date().toISOString(),
    });
    const age = (msgId: number, days: number) =>
      db.query(
        `UPDATE pgmq."q_${DLQ}" SET enqueued_at = now() - make_interval(days => $2) WHERE msg_id = $1`,
        [msgId, days],
      );

    const old = await queue.send(DLQ, letter(1));
    const recent = await queue.send(DLQ, letter(2));
    await age(old, 8);
    await age(recent, 6);
    expect(await purgeExpiredDeadLetters(db, NS, 7)).toBe(1);
    expect((await listDeadLetters(db, NS)).map((dead) => dead.msg_id)).toEqual([recent]);

    // The runtime purges on start and then every dlq_purge_interval_seconds.
    const older = await queue.send(DLQ, letter(3));
    await age(older, 3);
    runtime = await start(
      { ...FAST_DELIVERY, dlq_retention_days: 2, dlq_purge_interval_seconds: 1 },
      { fixed: false },
    );
    await eventually('the periodic purge', async () => ((await dlqLength(db)) === 0 ? true : undefined));
    const fresh = await queue.send(DLQ, letter(4));
    await age(fresh, 1);
    const later = await queue.send(DLQ, letter(5));
    await age(later, 5);
    await eventually('the next periodic purge', async () =>
      (await listDeadLetters(db, NS)).map((dead) => dead.msg_id).join() === String(fresh) ? true : undefined,
    );
  });
});
