import { ASYNC_COMMIT_COLUMN } from '../../db/async-commit.js';

/**
 * The one SQL statement that routes a batch of events from a namespace queue: it copies them
 * into subscriber queues (pgmq `send_batch`, with a NOTIFY per queue) and archives the
 * originals. One statement is one transaction and one round trip, so an event is routed to all
 * its subscribers or to none. It runs only if the namespace's subscriptions are still the ones
 * the router matched against (a fingerprint compared inside the statement, whose snapshot is
 * later than the read of the events): a subscription registered before an event was published
 * is never skipped, yet the subscriptions are not read again for every batch.
 */

/** One subscriber queue's copies in a routing statement. */
export interface RoutedCopies {
  queue: string;
  /** The NOTIFY channel of `queue`; omitted for copies claimed by a local consumer. */
  channel: string | undefined;
  /** JSON text of each copy and of its headers, in the same order. */
  messages: string[];
  headers: string[];
  /** Seconds before the copies become visible: a local consumer's claim, else 0. */
  delaySeconds: number;
}

/** Parameters and text of a routing statement. */
export interface RoutingStatement {
  sql: string;
  params: unknown[];
}

/** What a routing statement returns: whether it ran, and the new msg_ids per copy set. */
export interface RoutingResult {
  ok: boolean;
  ids: number[][];
}

// Routing commits without waiting for its WAL flush (ASYNC_COMMIT_COLUMN). Safe: a crash that
// loses the routing also loses its archive, so the originals are routed again (at least once);
// and any acknowledgement committed after a subscriber saw a copy flushes the WAL up to it,
// routing included, so acknowledged effects never outlive the routing they came from.

const SEPARATOR_FIELD = '\u001f';
const SEPARATOR_ROW = '\u001e';

/** The fingerprint of a namespace's subscriptions, rows in `subscriber_id` order (as loaded). */
export function subscriptionFingerprint(
  rows: ReadonlyArray<{ subscriber_id: string; pattern: string; queue_name: string }>,
): string {
  return rows
    .map((row) => [row.subscriber_id, row.pattern, row.queue_name].join(SEPARATOR_FIELD))
    .join(SEPARATOR_ROW);
}

/**
 * Builds the statement: `$1` namespace, `$2` fingerprint, `$3` source queue, `$4` msg_ids to
 * archive, then five parameters per copy set. Queue names travel as parameters (pgmq's
 * functions take text); only the number of copy sets shapes the text.
 */
export function routingStatement(
  namespace: string,
  fingerprint: string,
  source: string,
  msgIds: readonly number[],
  copies: readonly RoutedCopies[],
): RoutingStatement {
  const params: unknown[] = [namespace, fingerprint, source, msgIds];
  const columns = copies.map((copy, i) => {
    const p = params.length + 1;
    params.push(copy.queue, copy.messages, copy.headers, copy.delaySeconds, copy.channel ?? null);
    // Correlated with guard.ok: nothing runs when the subscriptions changed.
    return (
      `, (SELECT coalesce(array_agg(s.msg_id ORDER BY s.n), '{}') FROM pgmq.send_batch($${p}::text, ` +
      `$${p + 1}::jsonb[], $${p + 2}::jsonb[], $${p + 3}::integer) WITH ORDINALITY AS s(msg_id, n) ` +
      `WHERE guard.ok) AS ids_${i}, ` +
      `CASE WHEN guard.ok AND $${p + 4}::text IS NOT NULL THEN pg_notify($${p + 4}::text, '') END AS notified_${i}`
    );
  });
  const sql =
    `WITH guard AS (SELECT coalesce((SELECT string_agg(subscriber_id || chr(31) || pattern || chr(31) || queue_name, ` +
    `chr(30) ORDER BY subscriber_id) FROM tasker.event_subscriptions WHERE namespace = $1), '') = $2 AS ok) ` +
    `SELECT ${ASYNC_COMMIT_COLUMN}, guard.ok, (SELECT count(*) FROM pgmq.archive($3::text, $4::bigint[]) WHERE guard.ok) AS archived` +
    `${columns.join('')} FROM guard`;
  return { sql, params };
}

/** One subscription's share of a read-and-route statement. */
export interface ReadRoutedCopies {
  queue: string;
  /** Its pattern's regular expression (tasker.pattern_regex, the subscription's `name_regex`). */
  regex: string;
  /** Extra headers of these copies (merged over the original's). */
  headers: Record<string, unknown>;
  /** Seconds before the copies become visible: a local consumer's claim, else 0 (with a NOTIFY). */
  delaySeconds: number;
}

/** What a read-and-route statement returns. */
export interface ReadRoutingResult extends RoutingResult {
  /** Every message read (routed only when `ok`). */
  messages: Array<{
    msg_id: number;
    read_ct: number;
    enqueued_at: string;
    vt: string;
    message: unknown;
    headers: Record<string, unknown> | null;
  }>;
  /** Per copy set, the msg_ids of the originals copied, in the order of `ids`. */
  sources: number[][];
}

/**
 * Reads a batch from the source queue and routes it in the same statement, through
 * tasker.read_and_route_events (sql/migrations/0008_event_routing.sql): matching by regular
 * expression in SQL, on the queues' statement functions, planned once per session. The read
 * happens whatever the guard says; when the subscriptions changed, nothing is copied or
 * archived and the caller routes the messages read with {@link routingStatement} after reading
 * the subscriptions again. Queue names travel as parameters; the text never changes.
 */
export function readAndRouteStatement(
  namespace: string,
  fingerprint: string,
  source: string,
  read: { vtSeconds: number; qty: number },
  copies: readonly ReadRoutedCopies[],
): RoutingStatement {
  return {
    sql:
      `SELECT ${ASYNC_COMMIT_COLUMN}, tasker.read_and_route_events($1, $2, $3, $4, $5, ` +
      `$6::text[], $7::text[], $8::jsonb[], $9::integer[]) AS routing`,
    params: [
      namespace,
      fingerprint,
      source,
      read.vtSeconds,
      read.qty,
      copies.map((copy) => copy.queue),
      copies.map((copy) => copy.regex),
      copies.map((copy) => JSON.stringify(copy.headers)),
      copies.map((copy) => copy.delaySeconds),
    ],
  };
}

/** Reads the result row of a read-and-route statement with `copies` copy sets. */
export function readRoutingResult(
  row: Record<string, unknown> | undefined,
  copies: number,
): ReadRoutingResult {
  const routing = row?.routing as
    | { ok: boolean; messages: ReadRoutingResult['messages']; ids: number[][]; sources: number[][] }
    | undefined;
  if (routing === undefined) throw new Error('the read-and-route statement returned no row');
  const perCopySet = (lists: number[][]): number[][] =>
    Array.from({ length: copies }, (_, i) => (lists[i] ?? []).map(Number));
  return {
    ok: routing.ok,
    messages: routing.messages,
    ids: perCopySet(routing.ids),
    sources: perCopySet(routing.sources),
  };
}

/** Reads the result row of a routing statement with `copies` copy sets. */
export function routingResult(row: Record<string, unknown> | undefined, copies: number): RoutingResult {
  if (row === undefined) throw new Error('the routing statement returned no row');
  return {
    ok: row.ok === true,
    // int8[] may arrive as strings, depending on the adapter.
    ids: Array.from({ length: copies }, (_, i) => ((row[`ids_${i}`] as unknown[] | null) ?? []).map(Number)),
  };
}
