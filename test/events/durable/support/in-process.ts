/**
 * The fixture subscribers (test/fixtures/durable/subscribers.ts) consumed in this process with
 * startEventRuntime, on either database kind, for the tests that need no separate process.
 */
import { loadConfig } from '../../../../src/config/load.js';
import type { Database } from '../../../../src/db/database.js';
import { startEventRuntime, type EventRuntime } from '../../../../src/events/domain/event-runtime.js';
import { insertEffectVia, makeSubscribers } from '../../../fixtures/durable/subscribers.js';

/** Switches the fixture's behaviour from the test. */
export interface FixtureState {
  /** Poison events pass once true. */
  fixed: boolean;
}

/** Starts durable delivery of `namespace` to the fixture subscribers with the configuration in `configRoot`. */
export async function startFixtureRuntime(
  db: Database,
  namespace: string,
  configRoot: string,
  state: FixtureState,
): Promise<EventRuntime> {
  const config = await loadConfig({ root: configRoot, environ: {} });
  const subscribers = makeSubscribers({
    record: insertEffectVia((sql, params) => db.query(sql, params)),
    fixed: () => state.fixed,
    blocked: () => undefined,
  });
  return startEventRuntime({
    db,
    config: config.events,
    module: { subscribers, source: 'test/fixtures/durable/subscribers.ts' },
    namespaces: [namespace],
    id: `durable-test-${db.kind}`,
  });
}
