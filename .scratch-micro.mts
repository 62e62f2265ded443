import { createServer } from 'node:http';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { createPresetIdGenerator } from './src/telemetry/id-generator.js';
import { recordTaskSpan } from './src/telemetry/task-span-recorder.js';
import { taskSpanEvents, type TaskHistory } from './src/telemetry/task-span-events.js';
import { createStepSpanTracker } from './src/telemetry/step-span-tracker.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

const T0 = 1_764_000_000_000_000;
const steps = ['s1','s2','s3','s4'].map((n, i) => ({ stepUuid: `0190a000-0000-7000-8000-00000000000${i}`, name: n, state: 'complete', errorName: null, errorMessage: null }));
let seq = 0; const tt: any[] = []; const st: any[] = [];
const T = (at: number, from: string | null, to: string, metadata = {}) => tt.push({ from, to, metadata, atUs: T0 + at, seq: ++seq });
const S = (at: number, i: number, from: string | null, to: string, metadata = {}) => st.push({ from, to, metadata, atUs: T0 + at, seq: ++seq, stepUuid: steps[i]!.stepUuid, stepName: steps[i]!.name });
T(0, null, 'pending'); for (let i = 0; i < 4; i++) S(0, i, null, 'pending');
T(10, 'pending', 'initializing'); T(10, 'initializing', 'enqueuing_steps'); S(10, 0, 'pending', 'enqueued', { attempt: 1 }); T(10, 'enqueuing_steps', 'steps_in_process');
let t = 20; let from = 'steps_in_process';
for (let i = 0; i < 4; i++) { S(t, i, 'enqueued', 'in_progress', { attempt: 1, worker: 'w' }); t += 5; S(t, i, 'in_progress', 'enqueued_for_orchestration', { attempt: 1 }); t += 5;
  S(t, i, 'enqueued_for_orchestration', 'complete', { attempt: 1 }); T(t, 'steps_in_process', 'evaluating_results');
  if (i < 3) { T(t, 'evaluating_results', 'enqueuing_steps'); S(t, i + 1, 'pending', 'enqueued', { attempt: 1 }); T(t, 'enqueuing_steps', 'steps_in_process'); } else T(t, 'evaluating_results', 'complete'); t += 5; }
const history: TaskHistory = { task: { taskUuid: 'x', namespace: 'ns', name: 'n', version: '1', correlationId: 'c', status: 'complete', createdUs: T0, completedUs: T0 + t, traceparent: '00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01', parentTraceparent: null }, taskTransitions: tt, stepTransitions: st, steps };
console.log('events', taskSpanEvents(history).length);
const server = createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200).end('{}')); });
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
const url = `http://127.0.0.1:${(server.address() as any).port}/v1/traces`;
const N = 2000;
function bench(label: string, fn: () => void) { for (let i = 0; i < 200; i++) fn(); const c = process.cpuUsage(); const t0 = performance.now(); for (let i = 0; i < N; i++) fn(); const u = process.cpuUsage(c); console.log(label.padEnd(40), ((performance.now() - t0) * 1000 / N).toFixed(1), 'us wall', ((u.user + u.system) / N).toFixed(1), 'us cpu'); }
bench('taskSpanEvents', () => taskSpanEvents(history));
const mem = new InMemorySpanExporter();
const p1 = new BasicTracerProvider({ idGenerator: createPresetIdGenerator(), spanLimits: { eventCountLimit: 10000 }, spanProcessors: [new NoopSpanProcessor()] });
bench('recordTaskSpan (noop processor)', () => recordTaskSpan(p1.getTracer('t'), history));
const tracker = createStepSpanTracker(p1.getTracer('t'), new MeterProvider().getMeter('m'));
const step: any = { step_uuid: 'u', step_name: 's1', attempt: 1, task_uuid: 'x', namespace: 'ns', task_name: 'n', version: '1' };
const hdr = { traceparent: history.task.traceparent };
bench('step span lifecycle (noop processor)', () => { tracker.attemptStarted!(step, hdr, { queue: 'q', msgId: 1 }); tracker.beforeHandle!(step); tracker.afterHandle!(step, { ok: true, result: 1 }); tracker.attemptFinished!(step, { ok: true, result: 1 }, true); });
// serialization cost
const p2 = new BasicTracerProvider({ idGenerator: createPresetIdGenerator(), spanLimits: { eventCountLimit: 10000 }, spanProcessors: [new SimpleSpanProcessor(mem)] });
recordTaskSpan(p2.getTracer('t'), history);
const tracker2 = createStepSpanTracker(p2.getTracer('t'), new MeterProvider().getMeter('m'));
tracker2.attemptStarted!(step, hdr, { queue: 'q', msgId: 1 }); tracker2.beforeHandle!(step); tracker2.afterHandle!(step, { ok: true, result: 1 }); tracker2.attemptFinished!(step, { ok: true, result: 1 }, true);
const [taskSpan, stepSpan] = mem.getFinishedSpans();
bench('JSON serialize task span', () => JsonTraceSerializer.serializeRequest([taskSpan!]));
bench('JSON serialize step span', () => JsonTraceSerializer.serializeRequest([stepSpan!]));
console.log('task span bytes', JsonTraceSerializer.serializeRequest([taskSpan!])!.length, 'step span bytes', JsonTraceSerializer.serializeRequest([stepSpan!])!.length);
server.close();
