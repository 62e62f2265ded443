/**
 * Client-side group commit: items submitted while every flush lane is busy wait for one and
 * then go together in its next flush, so concurrent callers share one statement and one commit
 * instead of queueing behind each other's commits. A caller finding a lane free is flushed at
 * once, so it waits for nothing but its own statement. More than one lane lets the next group
 * be written while a group's commit is in flight (a server with several cores runs both).
 */
export class GroupCommit<I, R> {
  private waiting: Array<{ item: I; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private busyLanes = 0;

  /**
   * @param flush writes a group and resolves with one result per item, in order. When it
   *   throws, the items are flushed again one by one, so each caller gets its own outcome.
   * @param lanes flushes in flight at once.
   */
  constructor(
    private readonly flush: (items: readonly I[]) => Promise<R[]>,
    private readonly maxGroup = 500,
    private readonly lanes = 1,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.busyLanes < this.lanes) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busyLanes += 1;
    try {
      while (this.waiting.length > 0) await this.flushGroup(this.waiting.splice(0, this.maxGroup));
    } finally {
      this.busyLanes -= 1;
    }
  }

  private async flushGroup(group: GroupCommit<I, R>['waiting']): Promise<void> {
    try {
      const results = await this.flush(group.map((entry) => entry.item));
      group.forEach((entry, i) => entry.resolve(results[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const entry of group) await this.flushGroup([entry]);
    }
  }
}
