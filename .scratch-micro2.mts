import { taskSpanEvents, type TaskHistory } from './src/telemetry/task-span-events.js';
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
for (let i=0;i<2000;i++) taskSpanEvents(history); const c=process.cpuUsage(); for (let i=0;i<20000;i++) taskSpanEvents(history); const u=process.cpuUsage(c); console.log((u.user+u.system)/20000, "us cpu");
