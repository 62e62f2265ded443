/**
 * Client-side group commit for single sends. PostgreSQL serialises the commits of all
 * transactions that NOTIFY (a database-wide lock held through the WAL flush), so one
 * `send + pg_notify` per message caps concurrent senders at one commit per disk flush.
 * Instead, sends to one queue that arrive while a previous flush of that queue is in flight
 * wait for it and then go together as one `send_batch` statement with one NOTIFY: each
 * message is still inserted and announced by the same statement, and each caller still gets
 * its own id once that statement has committed.
 */

/** One message waiting to be flushed: JSON text of the message and of its headers. */
export interface PendingSend {
  message: string;
  headers: string | null;
}

/** Inserts `sends` into `queue` in one statement, returning their ids in order. */
export type FlushSends = (queue: string, sends: readonly PendingSend[]) => Promise<number[]>;

interface Waiter extends PendingSend {
  resolve: (id: number) => void;
  reject: (error: unknown) => void;
}

/** Largest group flushed as one statement. */
const MAX_GROUP = 500;

/** Queues single sends per queue and flushes them in groups; see the module comment. */
export class SendCoalescer {
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly flushing = new Set<string>();

  constructor(private readonly flush: FlushSends) {}

  /** Sends one message through the group of its queue; resolves with its id once committed. */
  send(queue: string, pending: PendingSend): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let list = this.waiting.get(queue);
      if (list === undefined) {
        list = [];
        this.waiting.set(queue, list);
      }
      list.push({ ...pending, resolve, reject });
      if (!this.flushing.has(queue)) {
        this.flushing.add(queue);
        // After the current turn, so that callers resumed by the previous flush can join in.
        setImmediate(() => void this.drain(queue));
      }
    });
  }

  private async drain(queue: string): Promise<void> {
    try {
      for (;;) {
        const list = this.waiting.get(queue);
        if (list === undefined || list.length === 0) return;
        await this.flushGroup(queue, list.splice(0, MAX_GROUP));
      }
    } finally {
      // Runs in the same turn as the emptiness check above: no send can slip in between.
      this.waiting.delete(queue);
      this.flushing.delete(queue);
    }
  }

  private async flushGroup(queue: string, group: Waiter[]): Promise<void> {
    try {
      const ids = await this.flush(queue, group);
      group.forEach((waiter, i) => {
        const id = ids[i];
        if (id === undefined)
          waiter.reject(new Error(`pgmq.send_batch on queue ${queue} returned too few ids`));
        else waiter.resolve(id);
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // The statement failed as a whole, so nothing was inserted: retry one by one so that each
      // caller gets its own outcome (one bad message must not fail its neighbours).
      for (const waiter of group) await this.flushGroup(queue, [waiter]);
    }
  }
}
