import { GroupCommit } from '../db/group-commit.js';

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

/** Queues single sends per queue and flushes them in groups; see the module comment. */
export class SendCoalescer {
  private readonly groups = new Map<string, GroupCommit<PendingSend, number>>();

  constructor(private readonly flush: FlushSends) {}

  /** Sends one message through the group of its queue; resolves with its id once committed. */
  send(queue: string, pending: PendingSend): Promise<number> {
    let group = this.groups.get(queue);
    if (group === undefined) {
      group = new GroupCommit(async (sends) => {
        const ids = await this.flush(queue, sends);
        if (ids.length !== sends.length)
          throw new Error(`pgmq.send_batch on queue ${queue} returned too few ids`);
        return ids;
      });
      this.groups.set(queue, group);
    }
    return group.submit(pending);
  }
}
