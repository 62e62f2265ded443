import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.js';

/** A flush whose calls stay open until the test settles them, recording each group. */
function controlledFlush() {
  const calls: Array<{ items: number[]; settle: (error?: Error) => void }> = [];
  const flush = (items: readonly number[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      calls.push({
        items: [...items],
        settle: (error) => (error ? reject(error) : resolve(items.map((item) => `done ${item}`))),
      });
    });
  return { calls, flush };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('flushes a lone item at once and groups what arrives while the lane is busy', async () => {
    const { calls, flush } = controlledFlush();
    const group = new GroupCommit(flush);
    const first = group.submit(1);
    const rest = [group.submit(2), group.submit(3)];
    await tick();
    expect(calls.map((call) => call.items)).toEqual([[1]]);
    calls[0]!.settle();
    expect(await first).toBe('done 1');
    await tick();
    expect(calls.map((call) => call.items)).toEqual([[1], [2, 3]]);
    calls[1]!.settle();
    expect(await Promise.all(rest)).toEqual(['done 2', 'done 3']);
  });

  it('keeps as many flushes in flight as it has lanes, and groups the rest', async () => {
    const { calls, flush } = controlledFlush();
    const group = new GroupCommit(flush, 500, 2);
    const results = [1, 2, 3, 4].map((item) => group.submit(item));
    await tick();
    expect(calls.map((call) => call.items)).toEqual([[1], [2]]);
    calls[1]!.settle();
    await tick();
    // The lane that came free takes everything that waited.
    expect(calls.map((call) => call.items)).toEqual([[1], [2], [3, 4]]);
    calls[0]!.settle();
    calls[2]!.settle();
    expect(await Promise.all(results)).toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
    await tick();
    expect(calls).toHaveLength(3);
  });

  it('flushes a failed group again item by item, so each caller gets its own outcome', async () => {
    const { calls, flush } = controlledFlush();
    const group = new GroupCommit(flush);
    const first = group.submit(1);
    const rest = [group.submit(2), group.submit(3)].map((result) =>
      result.catch((error: Error) => error.message),
    );
    await tick();
    calls[0]!.settle();
    await first;
    await tick();
    calls[1]!.settle(new Error('group failed'));
    await tick();
    expect(calls.map((call) => call.items)).toEqual([[1], [2, 3], [2]]);
    calls[2]!.settle(new Error('2 is bad'));
    await tick();
    calls[3]!.settle();
    expect(await Promise.all(rest)).toEqual(['2 is bad', 'done 3']);
  });
});
