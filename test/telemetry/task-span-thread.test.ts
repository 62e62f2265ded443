/**
 * The CLI records task spans in a worker thread: histories go in as JSON text, the finished
 * tasks come back for the counters, and the thread exports the spans (under the ids chosen at
 * task creation, with the process's resource) to the OTLP endpoint. A bad batch is refused
 * with a message and the thread carries on; a thread that cannot run leaves the work to the main
 * thread.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTaskSpanThread } from '../../src/cli/task-span-thread-sink.js';
import { startTelemetrySdk, type TelemetrySdk } from '../../src/cli/telemetry-sdk.js';
import { configSchema } from '../../src/config/schema.js';
import { inlineTaskSpanSink } from '../../src/telemetry/task-span-sink.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { createRecorder } from './support/recorder.js';

const telemetry = configSchema.parse({ telemetry: { enabled: true } }).telemetry;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const T0 = 1_790_000_000_000_000;

/** A history row as loadTaskHistoriesJson returns it (see src/telemetry/task-history.ts). */
function row(taskUuid: string, status: string, error?: { name: string; message: string }) {
  const final = status !== 'steps_in_process';
  return {
    task_uuid: taskUuid,
    namespace: 'payments',
    name: 'checkout',
    version: '1.0.0',
    correlation_id: 'c-1',
    status,
    traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
    parent_traceparent: null,
    created_us: T0,
    completed_us: final ? T0 + 5000 : null,
    task_transitions: [
      [null, 'pending', null, T0, 1],
      ...(final ? [['steps_in_process', status, null, T0 + 5000, 2]] : []),
    ],
    step_transitions: [[null, 'pending', null, T0, 1, 's-1']],
    steps: [['s-1', 'charge', error ? 'error' : 'complete', error?.name ?? null, error?.message ?? null]],
  };
}

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
}
interface TraceExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: ExportedSpan[] }>;
  }>;
}

describe('the task span thread of the CLI', () => {
  let receiver: OtlpReceiver | undefined;
  let sdk: TelemetrySdk | undefined;
  afterEach(async () => {
    await sdk?.shutdown();
    await receiver?.close();
    trace.disable();
    metrics.disable();
  });

  it('records the finished tasks of a batch, tells which, and exports their spans', async () => {
    receiver = await startOtlpReceiver();
    sdk = await startTelemetrySdk(
      { ...telemetry, otlp_endpoint: receiver.endpoint, service_name: 'tasker-thread-test' },
      'orchestrator',
      {},
    );
    const taskSpans = sdk.taskSpans!;
    const batch = [
      row('01930000-0000-7000-8000-000000000001', 'complete'),
      row('01930000-0000-7000-8000-000000000002', 'steps_in_process'),
      row('01930000-0000-7000-8000-000000000003', 'error', { name: 'CardDeclined', message: 'no' }),
    ];
    expect(await taskSpans.record(JSON.stringify(batch))).toEqual([
      { namespace: 'payments', status: 'complete' },
      { namespace: 'payments', status: 'error', errorCode: 'CardDeclined' },
    ]);

    await expect(taskSpans.record('{not json')).rejects.toThrow(/^task span thread: .*JSON/);
    expect(await taskSpans.record('[]')).toEqual([]);

    await sdk.shutdown();
    sdk = undefined;
    const exported = (receiver.received('/v1/traces') as TraceExport[]).flatMap((body) =>
      body.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({
            name: span.name,
            traceId: span.traceId,
            spanId: span.spanId,
            service: resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
          })),
        ),
      ),
    );
    expect(exported).toEqual([
      { name: 'task.orchestration', traceId: TRACE_ID, spanId: SPAN_ID, service: 'tasker-thread-test' },
      { name: 'task.orchestration', traceId: TRACE_ID, spanId: SPAN_ID, service: 'tasker-thread-test' },
    ]);
  });

  it('records in the main thread when the thread cannot start, losing no span and no count', async () => {
    const recorder = createRecorder();
    const fallback = inlineTaskSpanSink(recorder.tracerProvider.getTracer('fallback'));
    const thread = startTaskSpanThread({ resource: {}, tracesUrl: 'not a url', json: false }, fallback);
    try {
      const batch = [row('01930000-0000-7000-8000-000000000004', 'complete')];
      expect(await thread.record(JSON.stringify(batch))).toEqual([
        { namespace: 'payments', status: 'complete' },
      ]);
      expect(await thread.record(JSON.stringify(batch))).toEqual([
        { namespace: 'payments', status: 'complete' },
      ]);
      expect(recorder.spans().map((span) => [span.name, span.spanContext().spanId])).toEqual([
        ['task.orchestration', SPAN_ID],
        ['task.orchestration', SPAN_ID],
      ]);
    } finally {
      await thread.shutdown();
      await recorder.shutdown();
    }
    await expect(thread.record('[]')).rejects.toThrow('the task span thread is shut down');
  });

  it('has no thread without an OTLP endpoint', async () => {
    sdk = await startTelemetrySdk(telemetry, 'cli', {});
    expect(sdk.taskSpans).toBeUndefined();
  });
});
