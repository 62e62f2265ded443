import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { loadTemplates } from '../../src/templates/load.js';
import { formatTemplateId } from '../../src/templates/registry.js';

// Paths relative to the working directory, as a user would type them; messages repeat them.
const fixtures = path.relative(
  process.cwd(),
  fileURLToPath(new URL('../fixtures/templates', import.meta.url)),
);
const valid = path.join(fixtures, 'valid');
const invalid = (name: string) => path.join(fixtures, 'invalid', name);

async function loadError(paths: string[]): Promise<TaskerError> {
  const error: unknown = await loadTemplates(paths).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof TaskerError)) throw new Error(`expected a TaskerError, got ${String(error)}`);
  return error;
}

describe('loadTemplates: a good template round trip', () => {
  it('reads every key and applies every default', async () => {
    const registry = await loadTemplates([path.join(valid, 'payments', 'process_payment.yaml')]);
    const template = registry.get('payments', 'process_payment', '1.0.0');
    expect(template).toEqual({
      name: 'process_payment',
      namespace: 'payments',
      version: '1.0.0',
      description: 'Charge a card and record the outcome',
      inputSchema: {
        type: 'object',
        required: ['amount', 'currency'],
        additionalProperties: false,
        properties: {
          amount: { type: 'number', exclusiveMinimum: 0 },
          currency: { type: 'string', pattern: '^[A-Z]{3}$' },
          email: { type: 'string', format: 'email' },
        },
      },
      source: path.join(valid, 'payments', 'process_payment.yaml'),
      steps: [
        {
          name: 'validate_payment',
          description: 'Check the amount and currency',
          handler: { callable: 'Payments::ValidatePayment', initialization: {} },
          dependencies: [],
          retry: {
            retryable: true,
            maxAttempts: 3,
            backoff: 'exponential',
            backoffBaseMs: 1000,
            maxBackoffMs: 30000,
          },
          timeoutSeconds: 60,
          publishesEvents: [],
        },
        {
          name: 'charge_card',
          handler: {
            callable: 'Payments::ChargeCard',
            initialization: { gateway: 'stripe', timeouts: [1, 2, 3] },
          },
          dependencies: ['validate_payment'],
          retry: {
            retryable: true,
            maxAttempts: 5,
            backoff: 'linear',
            backoffBaseMs: 250,
            maxBackoffMs: 2000,
          },
          timeoutSeconds: 30,
          publishesEvents: [
            {
              name: 'payment.charged',
              description: 'The card was charged',
              schema: {
                type: 'object',
                required: ['payment_id', 'amount'],
                properties: { payment_id: { type: 'string' }, amount: { type: 'number' } },
              },
              delivery: 'fire_and_forget',
              condition: 'success',
            },
            {
              name: 'payment.charge_failed',
              schema: {
                $schema: 'http://json-schema.org/draft-07/schema#',
                type: 'object',
                definitions: { code: { type: 'string' } },
                properties: { code: { $ref: '#/definitions/code' } },
              },
              delivery: 'durable',
              condition: 'failure',
            },
          ],
        },
        {
          name: 'record_outcome',
          handler: { callable: 'Payments::RecordOutcome', initialization: {} },
          dependencies: ['charge_card', 'validate_payment'],
          // Not retryable: one attempt, whatever the default max_attempts.
          retry: {
            retryable: false,
            maxAttempts: 1,
            backoff: 'exponential',
            backoffBaseMs: 1000,
            maxBackoffMs: 30000,
          },
          timeoutSeconds: 60,
          publishesEvents: [
            { name: 'payment.recorded', schema: {}, delivery: 'acknowledged', condition: 'always' },
          ],
        },
      ],
    });
    expect(Object.isFrozen(template)).toBe(true);
    expect(Object.isFrozen(template.steps[1]?.handler.initialization)).toBe(true);
  });

  it('gives events without delivery the configured default', async () => {
    const registry = await loadTemplates([path.join(valid, 'payments', 'process_payment.yaml')], {
      defaultDelivery: 'durable',
    });
    const events = registry
      .get('payments', 'process_payment', '1.0.0')
      .steps.flatMap((s) => s.publishesEvents);
    expect(events.map((e) => [e.name, e.delivery])).toEqual([
      ['payment.charged', 'durable'],
      ['payment.charge_failed', 'durable'],
      ['payment.recorded', 'acknowledged'],
    ]);
  });

  it('refuses an unknown default delivery', async () => {
    const error: unknown = await loadTemplates([valid], { defaultDelivery: 'sometimes' as never }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('loadTemplates: directories and lookup', () => {
  it('loads .yaml and .yml files recursively, skipping dot-directories and other files', async () => {
    const registry = await loadTemplates([valid]);
    expect(registry.all().map(formatTemplateId)).toEqual([
      'payments/process_payment@1.0.0',
      'payments/process_payment@1.2.0',
      'payments/process_payment@1.10.0',
      'payments/process_payment@2.0.0-beta.1',
      'shipping/ship_order@0.1.0',
    ]);
    expect(registry.namespaces()).toEqual(['payments', 'shipping']);
  });

  it('loads a file listed on its own and inside a listed directory once', async () => {
    const registry = await loadTemplates([path.join(valid, 'shipping', 'ship_order.yml'), valid]);
    expect(registry.all()).toHaveLength(5);
  });

  it('picks the latest release when no version is asked: numeric order, pre-releases skipped', async () => {
    const registry = await loadTemplates([valid]);
    expect(registry.get('payments', 'process_payment').version).toBe('1.10.0');
    expect(registry.get('payments', 'process_payment', '2.0.0-beta.1').version).toBe('2.0.0-beta.1');
    expect(registry.get('shipping', 'ship_order').steps.map((s) => s.name)).toEqual([
      'pack',
      'label',
      'ship',
    ]);
  });

  it('picks the highest pre-release when there is no release', async () => {
    const registry = await loadTemplates([path.join(fixtures, 'prerelease-only')]);
    expect(registry.get('labs', 'experiment').version).toBe('1.0.0-beta');
  });

  it('names what was asked and what exists when a template is not found', async () => {
    const registry = await loadTemplates([valid]);
    expect(() => registry.get('billing', 'invoice')).toThrow(
      'no template billing/invoice: namespace "billing" is unknown (known namespaces: payments, shipping)',
    );
    expect(() => registry.get('payments', 'refund')).toThrow(
      'no template payments/refund (templates in payments: process_payment)',
    );
    expect(() => registry.get('payments', 'process_payment', '3.0.0')).toThrow(
      'no template payments/process_payment@3.0.0 (versions: 1.0.0, 1.2.0, 1.10.0, 2.0.0-beta.1)',
    );
    expect(() => registry.get('payments', 'refund')).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_NOT_FOUND' }),
    );
  });

  it('refuses a path that does not exist, a non-YAML file and a directory without templates', async () => {
    const missing = path.join(fixtures, 'nope');
    expect(await loadError([missing])).toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
      message: `${missing}: no such file or directory`,
    });
    const readme = path.join(valid, 'shipping', 'README.txt');
    expect((await loadError([readme])).message).toBe(
      `${readme}: not a template file (expected .yaml or .yml)`,
    );
    // Its only YAML file is in a dot-directory, which is skipped.
    const empty = path.join(fixtures, 'no-templates');
    expect(await loadError([empty])).toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
      message: `${empty}: no .yaml or .yml templates in this directory`,
    });
  });
});

describe('loadTemplates: templates that must be refused', () => {
  // Each fixture has one problem; the message names the file and the path (or line:column).
  const cases: [file: string, message: string][] = [
    [
      'malformed-yaml.yaml',
      ':7:3: Flow map in block collection must be sufficiently indented and end with a }',
    ],
    ['duplicate-yaml-key.yaml', ':4:1: Map keys must be unique'],
    ['unresolved-alias.yaml', ':7:14: Unresolved alias (the anchor must be set before the alias): nowhere'],
    ['unknown-tag.yaml', ':6:26: Unresolved tag: !secret'],
    ['multi-document.yaml', ':7:1: holds 2 YAML documents; put one template per file'],
    ['empty.yaml', ': the file holds no template (it is empty)'],
    ['not-a-mapping.yaml', ': a template must be a mapping of name, namespace_name, version and steps'],
    [
      'unknown-top-key.yaml',
      ': descripton: unknown key (did you mean "description"? allowed: name, namespace_name, version, description, input_schema, steps)',
    ],
    [
      'unknown-nested-key.yaml',
      ': steps[1].retry.max_attempt: unknown key (did you mean "max_attempts"? allowed: retryable, max_attempts, backoff, backoff_base_ms, max_backoff_ms)',
    ],
    ['unknown-handler-key.yaml', ': steps[0].handler.init: unknown key (allowed: callable, initialization)'],
    [
      'unknown-event-key.yaml',
      ': steps[0].publishes_events[0].mode: unknown key (allowed: name, description, schema, delivery, condition)',
    ],
    ['missing-name.yaml', ': name: is required'],
    ['missing-steps.yaml', ': steps: is required (a list of steps)'],
    ['empty-steps.yaml', ': steps: must list at least one step'],
    ['missing-handler.yaml', ': steps[0].handler: is required (with a callable)'],
    ['missing-callable.yaml', ': steps[0].handler.callable: is required'],
    [
      'binary-initialization.yaml',
      ': steps[0].handler.initialization.key: must be a JSON value, got a Buffer value',
    ],
    ['duplicate-step.yaml', ': steps[2].name: duplicate step name "charge_card" (first at steps[0])'],
    [
      'missing-dependency.yaml',
      ': steps[2].dependencies[0]: unknown step "chrge_card" (did you mean "charge_card"?)',
    ],
    ['missing-dependency-alias.yaml', ': steps[1].depends_on[1]: unknown step "send_receipt"'],
    [
      'both-dependency-keys.yaml',
      ': steps[1].depends_on: use either dependencies or depends_on (an alias), not both',
    ],
    ['self-dependency.yaml', ': steps[0].dependencies[0]: step "charge_card" cannot depend on itself'],
    ['cycle.yaml', ': steps[1].dependencies: dependency cycle: a -> c -> b -> a'],
    [
      'bad-template-name.yaml',
      ': name: "ProcessPayment" must match ^[a-z][a-z0-9_]*$ (lowercase letters, digits and _, starting with a letter)',
    ],
    [
      'bad-namespace-name.yaml',
      ': namespace_name: "9payments" must match ^[a-z][a-z0-9_]*$ (lowercase letters, digits and _, starting with a letter)',
    ],
    [
      'bad-step-name.yaml',
      ': steps[0].name: "charge-card" must match ^[a-z][a-z0-9_]*$ (lowercase letters, digits and _, starting with a letter)',
    ],
    [
      'namespace-too-long.yaml',
      `: namespace_name: "${'a'.repeat(30)}" is 30 characters; at most 29 so that its queue names fit PGMQ's 47 characters`,
    ],
    [
      'version-number.yaml',
      ': version: must be a semantic version such as 1.0.0, got the number 1 (YAML read it as a number)',
    ],
    [
      'version-not-semver.yaml',
      ': version: "v1.0.0" is not a semantic version such as 1.0.0 (see semver.org)',
    ],
    [
      'version-build-metadata.yaml',
      ': version: "1.0.0+build.7": build metadata (+...) is not allowed, since versions must order unambiguously',
    ],
    [
      'retry-max-attempts.yaml',
      ': steps[0].retry.max_attempts: must be an integer between 1 and 1000, got the number 0',
    ],
    [
      'retry-backoff.yaml',
      ': steps[0].retry.backoff: must be one of none, linear, exponential, got the string "quadratic"',
    ],
    ['retry-retryable.yaml', ': steps[0].retry.retryable: must be true or false, got the string "yes"'],
    ['retry-base-above-max.yaml', ': steps[0].retry.max_backoff_ms: 1000 is below backoff_base_ms (5000)'],
    [
      'retry-base-above-default-max.yaml',
      ': steps[0].retry.backoff_base_ms: 60000 is above max_backoff_ms (30000, the default); raise max_backoff_ms too',
    ],
    [
      'retry-not-retryable-attempts.yaml',
      ': steps[0].retry.max_attempts: 5 contradicts retryable: false (the step runs once)',
    ],
    [
      'timeout-zero.yaml',
      ': steps[0].timeout_seconds: must be an integer between 1 and 86400, got the number 0',
    ],
    [
      'input-schema-invalid.yaml',
      ': input_schema: not a valid JSON Schema (2020-12) at /properties/amount/type: must be equal to one of the allowed values',
    ],
    [
      'input-schema-typo.yaml',
      ': input_schema: schema does not compile: strict mode: unknown keyword: "requried"',
    ],
    ['input-schema-list.yaml', ': input_schema: must be a mapping, got a list'],
    [
      'event-name-camel.yaml',
      ': steps[0].publishes_events[0].name: "paymentCharged" is not an event name like domain.action (lowercase segments of letters, digits and _, split by dots, at least two)',
    ],
    [
      'event-name-one-segment.yaml',
      ': steps[0].publishes_events[0].name: "payment" is not an event name like domain.action (lowercase segments of letters, digits and _, split by dots, at least two)',
    ],
    [
      'event-reserved-task.yaml',
      ': steps[0].publishes_events[1].name: "task.completed" uses the reserved prefix "task." (task., step. and workflow. belong to system events, which are telemetry only)',
    ],
    [
      'event-reserved-workflow.yaml',
      ': steps[0].publishes_events[0].name: "workflow.step_completed" uses the reserved prefix "workflow." (task., step. and workflow. belong to system events, which are telemetry only)',
    ],
    [
      'event-schema-missing.yaml',
      ': steps[0].publishes_events[0].schema: is required: the JSON Schema of the payload (write {} to accept any payload)',
    ],
    [
      'event-schema-bad-ref.yaml',
      ": steps[0].publishes_events[0].schema: schema does not compile: can't resolve reference #/$defs/money from id #",
    ],
    [
      'event-schema-unknown-format.yaml',
      ': steps[0].publishes_events[0].schema: schema does not compile: unknown format "credit-card" ignored in schema at path "#"',
    ],
    [
      'event-schema-draft-04.yaml',
      ': steps[0].publishes_events[0].schema: unsupported $schema "http://json-schema.org/draft-04/schema#" (use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema)',
    ],
    [
      'event-delivery.yaml',
      ': steps[0].publishes_events[0].delivery: must be one of fire_and_forget, durable, acknowledged, got the string "eventually"',
    ],
    [
      'event-condition.yaml',
      ': steps[0].publishes_events[0].condition: must be one of success, failure, always, got the string "sometimes"',
    ],
    [
      'event-duplicate.yaml',
      ': steps[0].publishes_events[1].name: event "payment.charged" is already declared at steps[0].publishes_events[0]',
    ],
  ];

  it.each(cases)('%s', async (file, message) => {
    const error = await loadError([invalid(file)]);
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.message).toBe(`${invalid(file)}${message}`);
    expect(error.message).not.toContain('\n');
  });

  it('covers every invalid fixture', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(path.join(fixtures, 'invalid'))).sort();
    expect(files).toEqual(cases.map(([file]) => file).sort());
  });

  it('refuses one event name with two schemas in a namespace, naming both declarations', async () => {
    const error = await loadError([path.join(fixtures, 'conflict')]);
    const a = path.join(fixtures, 'conflict', 'a.yaml');
    const b = path.join(fixtures, 'conflict', 'b.yaml');
    expect(error.message).toBe(
      `${b}: steps[1].publishes_events[1].schema: event "payment.charged" in namespace payments has a different schema than at ${a}: steps[0].publishes_events[0].schema`,
    );
  });

  it('refuses two templates with the same namespace, name and version', async () => {
    const error = await loadError([path.join(fixtures, 'duplicate')]);
    expect(error.message).toBe(
      `${path.join(fixtures, 'duplicate', 'second.yaml')}: payments/charge@1.0.0 is already defined in ${path.join(fixtures, 'duplicate', 'first.yaml')}`,
    );
  });

  it('registers nothing when one file of many is invalid', async () => {
    const error = await loadError([valid, invalid('cycle.yaml')]);
    expect(error.message).toContain('dependency cycle');
  });
});

describe('the payments example of spec 2.2', () => {
  it('validates, with charge_card publishing payment.charged and handle_failure payment.failed', async () => {
    const registry = await loadTemplates(['examples/payments/templates/process_payment.yaml']);
    const template = registry.get('payments', 'process_payment');
    expect(template.version).toBe('1.0.0');
    expect(
      template.steps.map((step) => ({
        name: step.name,
        callable: step.handler.callable,
        dependencies: step.dependencies,
        events: step.publishesEvents.map((event) => `${event.name}:${event.delivery}:${event.condition}`),
      })),
    ).toEqual([
      {
        name: 'charge_card',
        callable: 'Payments::ChargeCardHandler',
        dependencies: [],
        events: ['payment.charged:fire_and_forget:success'],
      },
      {
        name: 'handle_failure',
        callable: 'Payments::HandleFailureHandler',
        dependencies: ['charge_card'],
        events: ['payment.failed:durable:success'],
      },
    ]);
    expect(template.steps[0]?.publishesEvents[0]?.schema).toMatchObject({
      required: ['payment_id', 'amount', 'currency'],
    });
  });
});
