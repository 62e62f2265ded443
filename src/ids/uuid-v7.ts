import { randomFillSync } from 'node:crypto';

/**
 * UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version `7`, a 42-bit counter
 * (`rand_a` plus the top 30 bits of `rand_b`, RFC 9562 §6.2 method 1), variant `10`, and
 * 32 random bits. Ids from one generator sort (as strings and as bytes) in creation order,
 * also within one millisecond and when the wall clock steps back.
 */

/** Where a generator reads time and randomness; injected so the logic stays pure and testable. */
export interface UuidV7Sources {
  /** Unix time in milliseconds. */
  now(): number;
  /** Fills `bytes` with random values. */
  fillRandom(bytes: Uint8Array): void;
}

/** Generates one UUIDv7 string per call (lowercase, `8-4-4-4-12`). */
export type UuidV7Generator = () => string;

const COUNTER_MAX = 2 ** 42 - 1;
const COUNTER_SEED_LIMIT = 2 ** 41; // seeds leave the top bit 0, so a millisecond holds >= 2^41 ids
const TIMESTAMP_MAX = 2 ** 48 - 1;
const POOL_SIZE = 1024; // random bytes fetched at once: one crypto call per ~100 ids

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The position of the last id: its millisecond and its counter within that millisecond. */
export interface UuidV7State {
  ms: number;
  counter: number;
}

/** Largest value of the 42-bit counter. */
export const UUIDV7_COUNTER_MAX = COUNTER_MAX;

/**
 * Moves `state` to the next id's position (pure apart from `seed`): a later clock starts a
 * new millisecond with a fresh seed; the same or an earlier clock (stepped back) keeps the
 * last millisecond and counts on; an exhausted counter borrows the next millisecond
 * (RFC 9562 §6.2, counter rollover).
 */
export function advanceUuidV7State(state: UuidV7State, now: number, seed: () => number): void {
  if (now > state.ms) {
    state.ms = now;
    state.counter = seed();
  } else if (state.counter < COUNTER_MAX) {
    state.counter += 1;
  } else {
    state.ms += 1;
    state.counter = seed();
  }
  if (state.ms > TIMESTAMP_MAX || state.ms < 0) {
    throw new RangeError(`UUIDv7 timestamp out of range: ${state.ms}`);
  }
}

/** Builds a monotonic UUIDv7 generator over the given clock and random source. */
export function createUuidV7Generator(sources: UuidV7Sources): UuidV7Generator {
  const pool = new Uint8Array(POOL_SIZE);
  let poolOffset = POOL_SIZE;

  const random = (count: number): number => {
    if (poolOffset + count > POOL_SIZE) {
      sources.fillRandom(pool);
      poolOffset = 0;
    }
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 256 + pool[poolOffset++]!;
    return value;
  };
  const seedCounter = (): number => random(6) % COUNTER_SEED_LIMIT;

  const state: UuidV7State = { ms: -1, counter: 0 };
  return () => {
    advanceUuidV7State(state, Math.floor(sources.now()), seedCounter);
    const lastMs = state.ms;
    const counter = state.counter;
    const msHigh = Math.floor(lastMs / 2 ** 16); // top 32 bits of the 48-bit timestamp
    const msLow = lastMs % 2 ** 16;
    const counterHigh = Math.floor(counter / 2 ** 24); // 18 bits: 4 in byte 6, 8 in byte 7, 6 in byte 8
    const counterLow = counter % 2 ** 24;
    const tail = random(4);

    return (
      HEX[(msHigh >>> 24) & 0xff]! +
      HEX[(msHigh >>> 16) & 0xff]! +
      HEX[(msHigh >>> 8) & 0xff]! +
      HEX[msHigh & 0xff]! +
      '-' +
      HEX[(msLow >>> 8) & 0xff]! +
      HEX[msLow & 0xff]! +
      '-' +
      HEX[0x70 | ((counterHigh >>> 14) & 0x0f)]! +
      HEX[(counterHigh >>> 6) & 0xff]! +
      '-' +
      HEX[0x80 | (counterHigh & 0x3f)]! +
      HEX[(counterLow >>> 16) & 0xff]! +
      '-' +
      HEX[(counterLow >>> 8) & 0xff]! +
      HEX[counterLow & 0xff]! +
      HEX[Math.floor(tail / 2 ** 24) & 0xff]! +
      HEX[(tail >>> 16) & 0xff]! +
      HEX[(tail >>> 8) & 0xff]! +
      HEX[tail & 0xff]!
    );
  };
}

/** The process-wide generator: wall clock and `crypto` randomness. */
const defaultGenerator = createUuidV7Generator({
  now: () => Date.now(),
  fillRandom: (bytes) => {
    randomFillSync(bytes);
  },
});

/** A new UUIDv7, monotonic within this process (RFC 9562). */
export function uuidv7(): string {
  return defaultGenerator();
}

/** The Unix millisecond timestamp a UUIDv7 carries (its first 48 bits). */
export function uuidv7Timestamp(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
