import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { createDomainEvent, type DomainEventSource } from '../../src/events/domain/envelope.js';
import { uuidv7 } from '../../src/ids/uuid-v7.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const schema = JSON.parse(
  readFileSync(new URL('../../docs/schemas/domain-event.schema.json', import.meta.url), 'utf8'),
) as object;
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);

const source: DomainEventSource = {
  taskUuid: uuidv7(),
  stepUuid: uuidv7(),
  stepName: 'charge_card',
  namespace: 'payments',
  correlationId: 'corr_xyz',
  firedBy: 'worker_001',
};

/** A built envelope as its JSON wire form, open to tampering. */
function wire(): Record<string, unknown> & { metadata: Record<string, unknown> } {
  const event = createDomainEvent('payment.charged', { payment_id: 'pay_123', amount: 99.99 }, source);
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown> & { metadata: Record<string, unknown> };
}

describe('createDomainEvent', () => {
  it('builds the envelope of DESIGN.md exactly', () => {
    const firedAt = new Date('2025-11-20T12:00:00Z');
    const event = createDomainEvent('payment.charged', { amount: 1 }, source, { firedAt });
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      name: 'payment.charged',
      payload: { amount: 1 },
      metadata: {
        task_uuid: source.taskUuid,
        step_uuid: source.stepUuid,
        step_name: 'charge_card',
        namespace: 'payments',
        correlation_id: 'corr_xyz',
        fired_at: '2025-11-20T12:00:00.000Z',
        fired_by: 'worker_001',
      },
    });
    expect(Object.keys(event)).toEqual(['id', 'name', 'payload', 'metadata']);
  });

  it('gives every event a new, increasing UUIDv7', () => {
    const ids = Array.from({ length: 100 }, () => createDomainEvent('a.b', null, source).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(100);
  });

  it('refuses reserved and malformed names, naming the step', () => {
    expect(() => createDomainEvent('task.completed', {}, source)).toThrow(
      /^event published by step "charge_card": "task\.completed" uses the reserved prefix "task\."/,
    );
    expect(() => createDomainEvent('payment.*', {}, source)).toThrow(
      /is not an event name like domain\.action/,
    );
    expect(() => createDomainEvent('a.b', {}, source, { firedAt: new Date('nope') })).toThrow(
      /fired_at is not a valid date/,
    );
  });
});

describe('docs/schemas/domain-event.schema.json', () => {
  it('accepts built envelopes, with any JSON payload', () => {
    for (const payload of [{ payment_id: 'pay_1' }, [1, 2], 'text', 3.5, null, true]) {
      const event = JSON.parse(
        JSON.stringify(createDomainEvent('payment.charged', payload, source)),
      ) as unknown;
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    }
    const withExtra = { ...wire(), trace_id: 'abc' };
    expect(validate(withExtra)).toBe(true); // readers ignore fields they do not know
  });

  const broken: [string, (e: ReturnType<typeof wire>) => void][] = [
    ['missing id', (e) => delete e.id],
    ['a UUIDv4 id', (e) => (e.id = '3b241101-e2bb-4255-8caf-4136c566a962')],
    ['an uppercase id', (e) => (e.id = String(e.id).toUpperCase())],
    ['missing name', (e) => delete e.name],
    ['a wildcard name', (e) => (e.name = 'payment.*')],
    ['a reserved name', (e) => (e.name = 'step.completed')],
    ['a reserved single segment', (e) => (e.name = 'workflow')],
    ['a single segment', (e) => (e.name = 'charged')],
    ['capitals', (e) => (e.name = 'Payment.charged')],
    ['a hyphen', (e) => (e.name = 'payment.card-charged')],
    ['an empty segment', (e) => (e.name = 'payment..charged')],
    ['a 256-character name', (e) => (e.name = 'a'.repeat(256))],
    ['missing payload', (e) => delete e.payload],
    ['missing metadata', (e) => Reflect.deleteProperty(e, 'metadata')],
    ['metadata not an object', (e) => (e.metadata = 'x' as unknown as Record<string, unknown>)],
    ['missing task_uuid', (e) => delete e.metadata.task_uuid],
    ['task_uuid not a uuid', (e) => (e.metadata.task_uuid = 'task-1')],
    ['step_uuid not a uuid', (e) => (e.metadata.step_uuid = 42)],
    ['empty step_name', (e) => (e.metadata.step_name = '')],
    ['missing namespace', (e) => delete e.metadata.namespace],
    ['missing correlation_id', (e) => delete e.metadata.correlation_id],
    [
      'camelCase correlationId',
      (e) => {
        e.metadata.correlationId = e.metadata.correlation_id;
        delete e.metadata.correlation_id;
      },
    ],
    ['fired_at not RFC 3339', (e) => (e.metadata.fired_at = '20/11/2025 12:00')],
    ['fired_at without a time zone', (e) => (e.metadata.fired_at = '2025-11-20T12:00:00')],
    ['missing fired_by', (e) => delete e.metadata.fired_by],
  ];

  it.each(broken)('rejects %s', (_label, breakIt) => {
    const event = wire();
    expect(validate(event)).toBe(true);
    breakIt(event);
    expect(validate(event)).toBe(false);
  });
});
