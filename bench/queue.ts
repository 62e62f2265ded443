/**
 * Queue benchmark (`npm run bench -- queue`): throughput of the PGMQ layer through PgmqClient and
 * send→receive latency of a NOTIFY-woken consumer, against targets set at 80% of the real pgmq 1.5
 * extension measured on the same kind of machine (docs/benchmarks.md).
 */
import os from 'node:os';
import type { Database } from '../src/db/database.js';
import { PgmqClient } from '../src/messaging/pgmq-client.js';
import { withBenchDatabase } from './bench-database.js';
import { pingPongLatencies } from './notify-latency.js';
import { formatCount, formatMs, formatTable, percentile, perSecond, summarize, timeMs } from './stats.js';

/** Real pgmq 1.5 on the project's machines (DESIGN.md), in messages per second or milliseconds. */
const REAL_PGMQ = {
  sendOne: 2_500,
  sendTenInFlight: 7_400,
  sendBatch: 110_000,
  readArchive: 43_000,
  latencyP50Ms: 0.9,
  latencyP99Ms: 2.3,
};
const TARGET_SHARE = 0.8;
const LATENCY_TARGET = { p50Ms: 1.5, p99Ms: 3 };

const SIZES = {
  warmUp: 200,
  sendOne: 2_000,
  sendInFlight: 10_000,
  inFlight: 10,
  batches: 200,
  batchSize: 100,
  readBatches: 200,
  latencyMessages: 2_000,
};

interface Row {
  operation: string;
  rate?: number;
  target?: number;
  p50?: number;
  p99?: number;
  passed: boolean;
}

/** Trials per throughput figure; the median is reported, so one disk hiccup does not decide. */
const TRIALS = 3;

async function throughputRow(
  operation: string,
  realPgmq: number,
  trial: (n: number) => Promise<number>,
): Promise<Row> {
  const rates: number[] = [];
  for (let n = 0; n < TRIALS; n++) rates.push(await trial(n));
  const rate = percentile(rates, 50);
  const target = realPgmq * TARGET_SHARE;
  return { operation, rate, target, passed: rate >= target };
}

function sendOneAtATime(client: PgmqClient, queue: string): Promise<Row> {
  return throughputRow('send, one at a time', REAL_PGMQ.sendOne, async () => {
    for (let i = 0; i < SIZES.warmUp; i++) await client.send(queue, { i });
    const ms = await timeMs(async () => {
      for (let i = 0; i < SIZES.sendOne; i++) await client.send(queue, { i });
    });
    return perSecond(SIZES.sendOne, ms);
  });
}

/** `count` sends from `inFlight` concurrent callers; returns messages per second. */
async function concurrentSends(client: PgmqClient, queue: string): Promise<number> {
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < SIZES.sendInFlight) {
      next += 1;
      await client.send(queue, { i: next });
    }
  };
  const ms = await timeMs(async () => {
    await Promise.all(Array.from({ length: SIZES.inFlight }, sender));
  });
  return perSecond(SIZES.sendInFlight, ms);
}

function sendInFlight(client: PgmqClient, queue: string): Promise<Row> {
  return throughputRow(`send, ${SIZES.inFlight} in flight`, REAL_PGMQ.sendTenInFlight, () =>
    concurrentSends(client, queue),
  );
}

/** The same without client-side grouping: shows what PostgreSQL's NOTIFY commit lock costs. */
async function sendInFlightUngrouped(db: Database, queue: string): Promise<Row> {
  const client = new PgmqClient(db, { coalesceSends: false });
  const rates: number[] = [];
  for (let n = 0; n < TRIALS; n++) rates.push(await concurrentSends(client, queue));
  return {
    operation: `send, ${SIZES.inFlight} in flight, ungrouped (info)`,
    rate: percentile(rates, 50),
    passed: true,
  };
}

function batchOf(size: number, offset: number): { i: number; payload: string }[] {
  return Array.from({ length: size }, (_, k) => ({ i: offset + k, payload: 'x'.repeat(32) }));
}

function sendBatches(client: PgmqClient, queue: string): Promise<Row> {
  return throughputRow(`send_batch(${SIZES.batchSize})`, REAL_PGMQ.sendBatch, async () => {
    for (let b = 0; b < 20; b++) await client.sendBatch(queue, batchOf(SIZES.batchSize, b));
    const batches = Array.from({ length: SIZES.batches }, (_, b) =>
      batchOf(SIZES.batchSize, b * SIZES.batchSize),
    );
    const ms = await timeMs(async () => {
      for (const batch of batches) await client.sendBatch(queue, batch);
    });
    return perSecond(SIZES.batches * SIZES.batchSize, ms);
  });
}

/** Reads a batch and archives it; returns how many were archived. */
async function readOnce(client: PgmqClient, queue: string): Promise<number> {
  const messages = await client.read(queue, { vtSeconds: 30, qty: SIZES.batchSize });
  if (messages.length === 0) throw new Error('read+archive: the queue ran dry before the end');
  const archived = await client.archive(
    queue,
    messages.map((m) => m.msgId),
  );
  return archived.length;
}

function readAndArchive(client: PgmqClient, queue: string): Promise<Row> {
  return throughputRow(`read(${SIZES.batchSize}) + archive(ids)`, REAL_PGMQ.readArchive, async () => {
    for (let b = 0; b < SIZES.readBatches + 20; b++)
      await client.sendBatch(queue, batchOf(SIZES.batchSize, b));
    for (let b = 0; b < 20; b++) await readOnce(client, queue);
    let done = 0;
    const ms = await timeMs(async () => {
      while (done < SIZES.readBatches * SIZES.batchSize) done += await readOnce(client, queue);
    });
    return perSecond(done, ms);
  });
}

/** Ping-pong: each message is sent once the previous one was received, so nothing queues. */
async function notifyLatency(db: Database, client: PgmqClient, queue: string): Promise<Row> {
  const latencies = await pingPongLatencies(db, client, queue, SIZES.warmUp + SIZES.latencyMessages);
  const summary = summarize(latencies.slice(SIZES.warmUp));
  return {
    operation: 'send → NOTIFY-woken consumer',
    p50: summary.p50,
    p99: summary.p99,
    passed: summary.p50 <= LATENCY_TARGET.p50Ms && summary.p99 <= LATENCY_TARGET.p99Ms,
  };
}

function printReport(rows: Row[], context: string): void {
  const table = formatTable(
    [
      { header: 'operation' },
      { header: 'msgs/s', align: 'right' },
      { header: 'target (80% of pgmq 1.5)', align: 'right' },
      { header: 'p50', align: 'right' },
      { header: 'p99', align: 'right' },
      { header: 'ok' },
    ],
    rows.map((row) => [
      row.operation,
      row.rate === undefined ? '' : formatCount(row.rate),
      row.target !== undefined
        ? formatCount(row.target)
        : row.p50 !== undefined
          ? `≤ ${formatMs(LATENCY_TARGET.p50Ms)} / ≤ ${formatMs(LATENCY_TARGET.p99Ms)}`
          : '',
      row.p50 === undefined ? '' : formatMs(row.p50),
      row.p99 === undefined ? '' : formatMs(row.p99),
      row.target === undefined && row.p50 === undefined ? '' : row.passed ? '✔' : '✘ below target',
    ]),
  );
  console.log(`\nQueue (PGMQ layer) — ${context}\n\n${table}\n`);
}

/**
 * How loaded the machine is right now: plain one-row INSERT commits per second, no pgmq involved.
 * Every figure above is bound by commits, so read them against this one (other processes on a
 * shared machine can halve it).
 */
async function commitFloor(db: Database): Promise<number> {
  await db.exec('CREATE TABLE bench_commit_floor (id bigserial PRIMARY KEY, v jsonb)');
  const ms = await timeMs(async () => {
    for (let i = 0; i < 1_000; i++) {
      await db.query('INSERT INTO bench_commit_floor (v) VALUES ($1::jsonb)', [JSON.stringify({ i })]);
    }
  });
  return perSecond(1_000, ms);
}

/** Runs every queue measurement in a fresh database and prints the table. */
export async function run(): Promise<boolean> {
  return withBenchDatabase(SIZES.inFlight + 2, async ({ db, pgmq, server, serverVersion }) => {
    const client = new PgmqClient(db);
    const queues = [
      'bench_send',
      'bench_in_flight',
      'bench_ungrouped',
      'bench_batch',
      'bench_read',
      'bench_latency',
    ];
    for (const queue of queues) await client.createQueue(queue);
    const rows = [
      await sendOneAtATime(client, 'bench_send'),
      await sendInFlight(client, 'bench_in_flight'),
      await sendInFlightUngrouped(db, 'bench_ungrouped'),
      await sendBatches(client, 'bench_batch'),
      await readAndArchive(client, 'bench_read'),
      await notifyLatency(db, client, 'bench_latency'),
    ];
    const floor = commitFloor(db);
    const context =
      `PostgreSQL ${serverVersion} at ${server}, pgmq: ${pgmq}, ${os.cpus().length} CPUs, Node ${process.version}; ` +
      `load average ${os.loadavg()[0]?.toFixed(1)}, plain INSERT commits ${formatCount(await floor)}/s`;
    printReport(rows, context);
    return rows.every((row) => row.passed);
  });
}
