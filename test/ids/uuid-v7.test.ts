import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  advanceUuidV7State,
  createUuidV7Generator,
  UUIDV7_COUNTER_MAX,
  uuidv7,
  uuidv7Timestamp,
} from '../../src/ids/uuid-v7.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A generator over a clock the test moves by hand. */
function manualClock(start: number, fill: (bytes: Uint8Array) => void = (b) => randomFillSync(b)) {
  const clock = { ms: start };
  const next = createUuidV7Generator({ now: () => clock.ms, fillRandom: fill });
  return { clock, next };
}

/** The 16 bytes of a UUID string. */
function bytesOf(id: string): number[] {
  const hex = id.replaceAll('-', '');
  return Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/** The 42-bit counter: rand_a (12 bits) and the top 30 bits of rand_b. */
function counterOf(id: string): number {
  const b = bytesOf(id);
  const randA = ((b[6]! & 0x0f) << 8) | b[7]!;
  const randBTop = ((b[8]! & 0x3f) << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!;
  return randA * 2 ** 30 + randBTop;
}

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, lowercase 8-4-4-4-12', () => {
    for (let i = 0; i < 1000; i++) {
      const id = uuidv7();
      expect(id).toMatch(FORMAT);
      const b = bytesOf(id);
      expect(b[6]! >> 4).toBe(7);
      expect(b[8]! >> 6).toBe(0b10);
    }
  });

  it('carries the clock in its first 48 bits', () => {
    const { next } = manualClock(0x0190_1234_5678);
    const id = next();
    expect(id.startsWith('01901234-5678-7')).toBe(true);
    expect(uuidv7Timestamp(id)).toBe(0x0190_1234_5678);

    const before = Date.now();
    const ts = uuidv7Timestamp(uuidv7());
    expect(ts).toBeGreaterThanOrEqual(before - 1);
    expect(ts).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('sorts in creation order within one millisecond', () => {
    const { next } = manualClock(1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i]! > ids[i - 1]!).toBe(true);
      expect(counterOf(ids[i]!)).toBe(counterOf(ids[i - 1]!) + 1);
    }
  });

  it('sorts in creation order across milliseconds and when the clock steps back', () => {
    const { clock, next } = manualClock(1_700_000_000_000);
    const ids: string[] = [];
    for (const ms of [0, 0, 1, 5, 3, 3, -100, 6, 6, 7]) {
      clock.ms = 1_700_000_000_000 + ms;
      ids.push(next());
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    // The step back keeps the last timestamp (5 ms) rather than going back in time.
    expect(uuidv7Timestamp(ids[4]!)).toBe(1_700_000_000_005);
  });

  it('seeds the counter with its top bit clear so a millisecond has room for 2^41 ids', () => {
    const { clock, next } = manualClock(1_700_000_000_000, (b) => b.fill(0xff));
    for (let i = 0; i < 50; i++) {
      clock.ms += 1;
      expect(counterOf(next())).toBeLessThan(2 ** 41);
    }
  });

  it('borrows the next millisecond when the counter is exhausted (RFC 9562 counter rollover)', () => {
    const state = { ms: 1_700_000_000_000, counter: UUIDV7_COUNTER_MAX - 1 };
    advanceUuidV7State(state, 1_700_000_000_000, () => 7);
    expect(state).toEqual({ ms: 1_700_000_000_000, counter: UUIDV7_COUNTER_MAX });
    advanceUuidV7State(state, 1_700_000_000_000, () => 7);
    expect(state).toEqual({ ms: 1_700_000_000_001, counter: 7 });
    // The real clock catching up to the borrowed millisecond counts on instead of reseeding.
    advanceUuidV7State(state, 1_700_000_000_001, () => 9);
    expect(state).toEqual({ ms: 1_700_000_000_001, counter: 8 });
    advanceUuidV7State(state, 1_700_000_000_002, () => 9);
    expect(state).toEqual({ ms: 1_700_000_000_002, counter: 9 });
  });

  it('refuses a clock outside the 48-bit range', () => {
    const { next } = manualClock(2 ** 48);
    expect(() => next()).toThrow(/out of range/);
  });

  it('is unique across many calls of the process-wide generator', () => {
    const ids = new Set(Array.from({ length: 50_000 }, () => uuidv7()));
    expect(ids.size).toBe(50_000);
  });
});
