import { describe, expect, it } from 'vitest';
import { createBroadcast, type OverflowStrategy } from '../../src/events/domain/broadcast.js';
import { createDomainEvent, type DomainEvent } from '../../src/events/domain/envelope.js';
import { FireAndForgetDispatcher } from '../../src/events/domain/fire-and-forget.js';
import { EventRegistry } from '../../src/events/domain/registry.js';

const source = {
  taskUuid: '0190a000-0000-7000-8000-000000000001',
  stepUuid: '0190a000-0000-7000-8000-000000000002',
  stepName: 'charge_card',
  namespace: 'payments',
  correlationId: 'corr-1',
  firedBy: 'worker-test',
};

const event = (name: string): DomainEvent => createDomainEvent(name, { name }, source);

function setup(overflowStrategy: OverflowStrategy = 'drop_oldest', bufferSize = 100) {
  const registry = new EventRegistry();
  const broadcast = createBroadcast({ bufferSize, overflowStrategy, logger: { warn() {} } });
  const dispatcher = new FireAndForgetDispatcher(registry, broadcast);
  const received: Record<string, string[]> = {};
  const record = (id: string) => (e: DomainEvent) => void (received[id] ??= []).push(e.name);
  return { registry, broadcast, dispatcher, received, record };
}

describe('FireAndForgetDispatcher', () => {
  it('delivers each event to the matching fire_and_forget subscriptions only', async () => {
    const { registry, dispatcher, received, record } = setup();
    registry.subscribe('payment.*', record('star'), { id: 'star' });
    registry.subscribe('payment.#', record('hash'), { id: 'hash' });
    registry.subscribe('#', record('durable'), { id: 'durable', delivery: 'durable' });
    registry.subscribe('order.created', record('order'), { id: 'order' });

    const result = dispatcher.dispatch([
      event('payment.charged'),
      event('payment.card.charged'),
      event('order.created'),
      event('inventory.reserved'),
    ]);
    expect(result).toBeUndefined();
    expect(received).toEqual({}); // handlers run later, not on the publisher's stack
    await dispatcher.idle();
    expect(received).toEqual({
      star: ['payment.charged'],
      hash: ['payment.charged', 'payment.card.charged'],
      order: ['order.created'],
    });
    expect(dispatcher.stats().map((s) => [s.id, s.delivered])).toEqual([
      ['star', 1],
      ['hash', 2],
      ['order', 1],
    ]);
  });

  it('follows subscriptions added and removed after it was created', async () => {
    const { registry, dispatcher, received, record } = setup();
    const stop = registry.subscribe('payment.*', record('first'), { id: 'first' });
    void dispatcher.dispatch([event('payment.charged')]);
    registry.subscribe('payment.charged', record('second'), { id: 'second' });
    void dispatcher.dispatch([event('payment.charged')]);
    await dispatcher.idle();
    stop();
    void dispatcher.dispatch([event('payment.charged')]);
    await dispatcher.idle();
    expect(received).toEqual({
      first: ['payment.charged', 'payment.charged'],
      second: ['payment.charged', 'payment.charged'],
    });
    expect(dispatcher.stats().map((s) => s.id)).toEqual(['second']);
  });

  it('stops delivering to an unsubscribed handler at once, queued events included', async () => {
    const { registry, dispatcher, received, record } = setup();
    const stop = registry.subscribe('payment.*', record('gone'), { id: 'gone' });
    registry.subscribe('payment.*', record('stays'), { id: 'stays' });
    void dispatcher.dispatch([event('payment.charged'), event('payment.refunded')]);
    stop(); // before the queued events are handled
    await dispatcher.idle();
    expect(received).toEqual({ stays: ['payment.charged', 'payment.refunded'] });
  });

  it('delivers nothing after close', async () => {
    const { registry, broadcast, dispatcher, received, record } = setup();
    registry.subscribe('payment.*', record('s'), { id: 's' });
    void dispatcher.dispatch([event('payment.charged')]);
    dispatcher.close();
    expect(dispatcher.dispatch([event('payment.charged')])).toBeUndefined();
    registry.subscribe('payment.#', record('late'), { id: 'late' });
    await dispatcher.idle();
    expect(received).toEqual({});
    expect(broadcast.stats()).toEqual([]);
  });

  it('with block, returns a promise the publisher awaits until there is room', async () => {
    const { registry, dispatcher, received, record } = setup('block', 2);
    registry.subscribe('payment.*', record('s'), { id: 's' });
    const events = Array.from({ length: 5 }, () => event('payment.charged'));
    const wait = dispatcher.dispatch(events);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    await dispatcher.idle();
    expect(received.s).toHaveLength(5);
    expect(dispatcher.dispatch([event('order.created')])).toBeUndefined(); // no subscriber: nothing to wait for
  });
});
