/**
 * Queue benchmark (`npm run bench -- queue`): throughput of the PGMQ layer through PgmqClient and
 * send→receive latency of a NOTIFY-woken consumer. Targets are 80% of the real pgmq extension:
 * measured in the same run, through the same client, when the server offers it (docs/benchmarks.md
 * says how to install it for a benchmark), else the reference figures of pgmq 1.5 below.
 */
import os from 'node:os';
import type { Database } from '../src/db/database.js';
import { PgmqClient } from '../src/messaging/pgmq-client.js';
import { serverOffersPgmq, withBenchDatabase } from './bench-database.js';
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

/** One PGMQ implementation measured: our bundled SQL, or the server's pgmq extension. */
interface Subject {
  db: Database;
  client: PgmqClient;
}

/** Ours, and the server's pgmq extension when it offers one. */
interface Subjects {
  ours: Subject;
  pgmq?: Subject;
}

/** A figure of ours and, when the server offers the extension, the extension's in the same run. */
interface Pair {
  ours: number;
  pgmq?: number;
}

interface Row {
  operation: string;
  rate?: Pair;
  target?: number;
  p50?: Pair;
  p99?: Pair;
  passed: boolean;
}

/** Trials per throughput figure; the median is reported, so one disk hiccup does not decide. */
const TRIALS = 3;

/**
 * Runs `trial` TRIALS times on each subject, alternating between them so that a change in the
 * machine's load hits both alike, and takes each one's median.
 */
async function medianRates(
  { ours, pgmq }: Subjects,
  trial: (subject: Subject) => Promise<number>,
): Promise<Pair> {
  const rates: { ours: number[]; pgmq: number[] } = { ours: [], pgmq: [] };
  for (let n = 0; n < TRIALS; n++) {
    rates.ours.push(await trial(ours));
    if (pgmq) rates.pgmq.push(await trial(pgmq));
  }
  return { ours: percentile(rates.ours, 50), ...(pgmq ? { pgmq: percentile(rates.pgmq, 50) } : {}) };
}

/** Target: 80% of the extension measured in this run, else of the reference figure. */
async function throughputRow(
  operation: string,
  reference: number,
  subjects: Subjects,
  trial: (subject: Subject) => Promise<number>,
): Promise<Row> {
  const rate = await medianRates(subjects, trial);
  const target = (rate.pgmq ?? reference) * TARGET_SHARE;
  return { operation, rate, target, passed: rate.ours >= target };
}

function sendOneAtATime(subjects: Subjects): Promise<Row> {
  return throughputRow('send, one at a time', REAL_PGMQ.sendOne, subjects, async ({ client }) => {
    const queue = 'bench_send';
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

function sendInFlight(subjects: Subjects): Promise<Row> {
  return throughputRow(
    `send, ${SIZES.inFlight} in flight`,
    REAL_PGMQ.sendTenInFlight,
    subjects,
    ({ client }) => concurrentSends(client, 'bench_in_flight'),
  );
}

/** The same without client-side grouping: shows what PostgreSQL's NOTIFY commit lock costs. */
async function sendInFlightUngrouped(subjects: Subjects): Promise<Row> {
  const ungrouped = (subject: Subject): Subject => ({
    db: subject.db,
    client: new PgmqClient(subject.db, { coalesceSends: false }),
  });
  const rate = await medianRates(
    { ours: ungrouped(subjects.ours), ...(subjects.pgmq ? { pgmq: ungrouped(subjects.pgmq) } : {}) },
    ({ client }) => concurrentSends(client, 'bench_ungrouped'),
  );
  return { operation: `send, ${SIZES.inFlight} in flight, ungrouped (info)`, rate, passed: true };
}

function batchOf(size: number, offset: number): { i: number; payload: string }[] {
  return Array.from({ length: size }, (_, k) => ({ i: offset + k, payload: 'x'.repeat(32) }));
}

function sendBatches(subjects: Subjects): Promise<Row> {
  return throughputRow(
    `send_batch(${SIZES.batchSize})`,
    REAL_PGMQ.sendBatch,
    subjects,
    async ({ client }) => {
      const queue = 'bench_batch';
      for (let b = 0; b < 20; b++) await client.sendBatch(queue, batchOf(SIZES.batchSize, b));
      const batches = Array.from({ length: SIZES.batches }, (_, b) =>
        batchOf(SIZES.batchSize, b * SIZES.batchSize),
      );
      const ms = await timeMs(async () => {
        for (const batch of batches) await client.sendBatch(queue, batch);
      });
      return perSecond(SIZES.batches * SIZES.batchSize, ms);
    },
  );
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

function readAndArchive(subjects: Subjects): Promise<Row> {
  return throughputRow(
    `read(${SIZES.batchSize}) + archive(ids)`,
    REAL_PGMQ.readArchive,
    subjects,
    async ({ client }) => {
      const queue = 'bench_read';
      for (let b = 0; b < SIZES.readBatches + 20; b++)
        await client.sendBatch(queue, batchOf(SIZES.batchSize, b));
      for (let b = 0; b < 20; b++) await readOnce(client, queue);
      let done = 0;
      const ms = await timeMs(async () => {
        while (done < SIZES.readBatches * SIZES.batchSize) done += await readOnce(client, queue);
      });
      return perSecond(done, ms);
    },
  );
}

/** Latency rounds per subject, alternating between subjects like the throughput trials. */
const LATENCY_ROUNDS = 4;

/** Ping-pong: each message is sent once the previous one was received, so nothing queues. */
async function latencyRound({ db, client }: Subject): Promise<number[]> {
  const perRound = SIZES.latencyMessages / LATENCY_ROUNDS;
  const warmUp = SIZES.warmUp / LATENCY_ROUNDS;
  const latencies = await pingPongLatencies(db, client, 'bench_latency', warmUp + perRound);
  return latencies.slice(warmUp);
}

async function notifyLatency(subjects: Subjects): Promise<Row> {
  const ours: number[] = [];
  const pgmq: number[] = [];
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    ours.push(...(await latencyRound(subjects.ours)));
    if (subjects.pgmq) pgmq.push(...(await latencyRound(subjects.pgmq)));
  }
  const mine = summarize(ours);
  const theirs = subjects.pgmq && summarize(pgmq);
  return {
    operation: 'send → NOTIFY-woken consumer',
    p50: { ours: mine.p50, ...(theirs ? { pgmq: theirs.p50 } : {}) },
    p99: { ours: mine.p99, ...(theirs ? { pgmq: theirs.p99 } : {}) },
    passed: mine.p50 <= LATENCY_TARGET.p50Ms && mine.p99 <= LATENCY_TARGET.p99Ms,
  };
}

function printReport(rows: Row[], context: string, measuredPgmq: boolean): void {
  const pgmqCell = (pair: Pair | undefined, format: (value: number) => string): string =>
    pair?.pgmq === undefined ? '' : format(pair.pgmq);
  const table = formatTable(
    [
      { header: 'operation' },
      { header: 'ours msgs/s', align: 'right' },
      { header: 'pgmq ext. msgs/s', align: 'right' },
      {
        header: measuredPgmq ? 'target (80% of pgmq ext.)' : 'target (80% of pgmq 1.5 ref.)',
        align: 'right',
      },
      { header: 'ours p50', align: 'right' },
      { header: 'ours p99', align: 'right' },
      { header: 'pgmq ext. p50 / p99', align: 'right' },
      { header: 'ok' },
    ],
    rows.map((row) => [
      row.operation,
      row.rate === undefined ? '' : formatCount(row.rate.ours),
      pgmqCell(row.rate, formatCount),
      row.target !== undefined
        ? formatCount(row.target)
        : row.p50 !== undefined
          ? `≤ ${formatMs(LATENCY_TARGET.p50Ms)} / ≤ ${formatMs(LATENCY_TARGET.p99Ms)}`
          : '',
      row.p50 === undefined ? '' : formatMs(row.p50.ours),
      row.p99 === undefined ? '' : formatMs(row.p99.ours),
      row.p50?.pgmq === undefined ? '' : `${formatMs(row.p50.pgmq)} / ${pgmqCell(row.p99, formatMs)}`,
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

const QUEUES = [
  'bench_send',
  'bench_in_flight',
  'bench_ungrouped',
  'bench_batch',
  'bench_read',
  'bench_latency',
];

async function measure(subjects: Subjects): Promise<Row[]> {
  for (const { client } of [subjects.ours, ...(subjects.pgmq ? [subjects.pgmq] : [])]) {
    for (const queue of QUEUES) await client.createQueue(queue);
  }
  return [
    await sendOneAtATime(subjects),
    await sendInFlight(subjects),
    await sendInFlightUngrouped(subjects),
    await sendBatches(subjects),
    await readAndArchive(subjects),
    await notifyLatency(subjects),
  ];
}

/**
 * Runs every queue measurement on our bundled SQL in a fresh database and, when the server
 * offers the pgmq extension, on the extension in a second one, side by side; prints the table.
 */
export async function run(): Promise<boolean> {
  const poolSize = SIZES.inFlight + 2;
  const withExtension = await serverOffersPgmq();
  return withBenchDatabase(
    poolSize,
    async (bundled) => {
      const ours: Subject = { db: bundled.db, client: new PgmqClient(bundled.db) };
      const rows = withExtension
        ? await withBenchDatabase(
            poolSize,
            (extension) =>
              measure({ ours, pgmq: { db: extension.db, client: new PgmqClient(extension.db) } }),
            'extension',
          )
        : await measure({ ours });
      const floor = commitFloor(bundled.db);
      const context =
        `PostgreSQL ${bundled.serverVersion} at ${bundled.server}, ours: bundled pgmq SQL, ` +
        `pgmq extension: ${withExtension ? 'measured in this run' : 'not offered by the server (reference figures)'}, ` +
        `${os.cpus().length} CPUs, Node ${process.version}; ` +
        `load average ${os.loadavg()[0]?.toFixed(1)}, plain INSERT commits ${formatCount(await floor)}/s`;
      printReport(rows, context, withExtension);
      return rows.every((row) => row.passed);
    },
    'bundled',
  );
}
