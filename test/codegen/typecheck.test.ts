/**
 * What the generated types buy: handler code using them is checked by the TypeScript compiler.
 * Source files are compiled in memory (TypeScript compiler API, the project's compiler
 * options), beside a freshly generated module; every line marked `// error` must have a
 * diagnostic and no other line may.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateEventTypes } from '../../src/codegen/event-types.js';
import { loadTemplates } from '../../src/templates/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Virtual files live here (never written), so relative imports of src/ resolve as in the repo.
const VIRTUAL_DIR = path.join(ROOT, 'test/codegen/virtual');

interface Diagnostic {
  line: number;
  code: number;
  message: string;
}

function compilerOptions(): ts.CompilerOptions {
  const file = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (name) => ts.sys.readFile(name));
  const parsed = ts.parseJsonConfigFileContent(file.config, ts.sys, ROOT);
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false };
}

/** Type-checks `main` (with the other virtual files) and returns its diagnostics, by line (1-based). */
function typecheck(files: Record<string, string>, main: string): Diagnostic[] {
  const virtual = new Map(Object.entries(files).map(([name, text]) => [path.join(VIRTUAL_DIR, name), text]));
  const options = compilerOptions();
  const base = ts.createCompilerHost(options);
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (name) => virtual.has(name) || base.fileExists(name),
    directoryExists: (name) => name === VIRTUAL_DIR || (base.directoryExists?.(name) ?? true),
    readFile: (name) => virtual.get(name) ?? base.readFile(name),
    getSourceFile: (name, language, ...rest) => {
      const text = virtual.get(name);
      return text === undefined
        ? base.getSourceFile(name, language, ...rest)
        : ts.createSourceFile(name, text, language);
    },
  };
  const mainPath = path.join(VIRTUAL_DIR, main);
  const program = ts.createProgram([mainPath], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    if (diagnostic.file?.fileName !== mainPath || diagnostic.start === undefined) {
      throw new Error(
        `diagnostic outside ${main}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      );
    }
    return {
      line: diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1,
      code: diagnostic.code,
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
    };
  });
}

/** 1-based numbers of the lines ending in `// error`. */
function markedLines(text: string): number[] {
  return text.split('\n').flatMap((line, index) => (/\/\/ error\b/.test(line) ? [index + 1] : []));
}

const HANDLERS_OK = `
import type { StepContext } from '../../../src/worker/step-context.js';
import type { DomainEvent } from '../../../src/events/domain/envelope.js';
import { isEvent, typedPublisher, type EventPayloads } from './events.generated.js';

export function charge(ctx: StepContext): void {
  const publish = typedPublisher(ctx, 'payments/process_payment/charge_card');
  publish('payment.charged', { payment_id: 'p1', amount: 10, currency: 'EUR' });
  publish('payment.charged', { payment_id: 'p1', amount: 10, currency: 'EUR', customer_id: 'c1' });
}

export function fail(ctx: StepContext): void {
  typedPublisher(ctx, 'payments/process_payment/handle_failure')('payment.failed', {
    payment_id: 'p1',
    error_code: 'card_declined',
  });
}

export function audit(event: DomainEvent): string {
  if (isEvent(event, 'payment.charged')) return \`\${event.payload.amount} \${event.payload.currency}\`;
  if (isEvent(event, 'payment.failed')) return event.payload.error_code;
  return event.name;
}

export const sample: EventPayloads['payment.failed'] = { payment_id: 'p2', error_code: 'x', error_message: 'y' };
`;

const HANDLERS_WRONG = `
import type { StepContext } from '../../../src/worker/step-context.js';
import type { DomainEvent } from '../../../src/events/domain/envelope.js';
import { isEvent, typedPublisher } from './events.generated.js';

export function charge(ctx: StepContext): void {
  const publish = typedPublisher(ctx, 'payments/process_payment/charge_card');
  publish('payment.chargd', { payment_id: 'p1', amount: 10, currency: 'EUR' }); // error: event name typo
  publish('payment.charged', { payment_id: 'p1', amout: 10, currency: 'EUR' }); // error: payload field typo
  publish('payment.charged', { payment_id: 'p1', amount: '10', currency: 'EUR' }); // error: wrong field type
  publish('payment.charged', { payment_id: 'p1', amount: 10 }); // error: required field missing
  publish('payment.failed', { payment_id: 'p1', error_code: 'x' }); // error: another step's event
  typedPublisher(ctx, 'payments/process_payment/charge_crad'); // error: unknown step
}

export function audit(event: DomainEvent): number {
  if (isEvent(event, 'payment.failed')) return event.payload.amount; // error: not a field of payment.failed
  if (isEvent(event, 'payment.refunded')) return 0; // error: undeclared event
  return 0;
}
`;

describe('generated event types under the TypeScript compiler', { timeout: 60_000 }, () => {
  let paymentsModule: string;

  beforeAll(async () => {
    paymentsModule = generateEventTypes(
      (await loadTemplates([path.join(ROOT, 'examples/payments/templates')])).all(),
    ).text;
  });

  it('compiles correct handlers and subscribers without a diagnostic', () => {
    expect(typecheck({ 'events.generated.ts': paymentsModule, 'ok.ts': HANDLERS_OK }, 'ok.ts')).toEqual([]);
  });

  it('reports a typo in an event name, a wrong payload field and every other misuse', () => {
    const diagnostics = typecheck(
      { 'events.generated.ts': paymentsModule, 'wrong.ts': HANDLERS_WRONG },
      'wrong.ts',
    );
    expect([...new Set(diagnostics.map((d) => d.line))]).toEqual(markedLines(HANDLERS_WRONG));
    const on = (fragment: string) => {
      const line = HANDLERS_WRONG.split('\n').findIndex((text) => text.includes(fragment)) + 1;
      return diagnostics.filter((d) => d.line === line).map((d) => d.message);
    };
    expect(on("'payment.chargd'")).toEqual([
      expect.stringContaining(`Argument of type '"payment.chargd"' is not assignable to parameter`),
    ]);
    expect(on('amout')).toEqual([expect.stringContaining("'amout' does not exist in type 'PaymentCharged'")]);
    expect(on("amount: '10'")).toEqual([
      expect.stringContaining("Type 'string' is not assignable to type 'number'"),
    ]);
    expect(on('amount: 10 });')).toEqual([expect.stringContaining("Property 'currency' is missing")]);
    expect(on('charge_crad')).toEqual([expect.stringContaining('"payments/process_payment/charge_crad"')]);
  });

  it('compiles the module generated from every fixture, with payloads of each shape', async () => {
    const fixtures = generateEventTypes(
      (await loadTemplates([path.join(ROOT, 'test/fixtures/codegen/templates')])).all(),
    ).text;
    const usage = `
import { typedPublisher, type PublishingContext } from './events.generated.js';

export function describe(ctx: PublishingContext): void {
  typedPublisher(ctx, 'catalog/shapes/describe')('product.described', {
    sku: 'abc',
    price: { amount: 1, currency: 'EUR' },
    tags: ['a'],
    status: null,
    kind: 'product',
    quantity: 2,
    discontinued: false,
    note: null,
    dimensions: { width: 1 },
    pair: ['x'],
    either: { b: 2 },
    labels: { any: 'string' },
    matched: 42,
    'content-type': 'text/plain',
  });
  typedPublisher(ctx, 'catalog/shapes/describe')('product.tagged', { tag: 't', more: [1] });
  typedPublisher(ctx, 'catalog/legacy/import')('product.counted', 3);
  typedPublisher(ctx, 'billing/invoice/send')('invoice.sent', { invoice_id: 'i1' });
  typedPublisher(ctx, 'shipping/dispatch/notify')('invoice.sent', { parcel_id: 7 });
  typedPublisher(ctx, 'billing/invoice/send')('invoice.voided', {}); // error: only version 2.0.0 declares it
  typedPublisher(ctx, 'shipping/dispatch/notify')('invoice.sent', { invoice_id: 'i1' }); // error: billing's schema
}
`;
    const diagnostics = typecheck({ 'events.generated.ts': fixtures, 'usage.ts': usage }, 'usage.ts');
    expect(diagnostics.map((d) => d.line)).toEqual(markedLines(usage));
  });

  it('compiles the module generated from no templates at all', () => {
    const empty = generateEventTypes([]).text;
    expect(
      typecheck(
        { 'events.generated.ts': empty, 'use.ts': "export * from './events.generated.js';\n" },
        'use.ts',
      ),
    ).toEqual([]);
  });
});
