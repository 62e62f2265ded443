/**
 * Finished tasks reach the task span sink in batches: one history query and one hand-over for
 * the tasks that finish within the collection window, released early by flush().
 */
import { fileURLToPath } from 'node:url';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cancelTask } from '../../src/api/manual-actions.js';
import { createTask } from '../../src/api/tasks.js';
import { createSystemTelemetry } from '../../src/telemetry/system-telemetry.js';
import { parseTaskHistories } from '../../src/telemetry/task-history.js';
import { inlineTaskSpanSink, type TaskSpanSink } from '../../src/telemetry/task-span-sink.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

const TEMPLATES = fileURLToPath(new URL('../fixtures/telemetry/templates', import.meta.url));

/** A sink that records spans as the engine's would and remembers the task uuids of each batch. */
function batchRecordingSink(): TaskSpanSink & { batches: string[][] } {
  const inline = inlineTaskSpanSink(new BasicTracerProvider().getTracer('test'));
  const batches: string[][] = [];
  return {
    batches,
    record(historiesJson) {
      batches.push(parseTaskHistories(historiesJson).map((history) => history.task.taskUuid));
      return inline.record(historiesJson);
    },
  };
}

describe.each(DATABASE_KINDS)('task span batches on %s', (kind) => {
  let database: TestDatabase;
  let templates: TemplateRegistry;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    templates = await loadTemplates([TEMPLATES]);
  });
  afterAll(async () => {
    await database.dispose();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Tasks that finished: created and cancelled (no engine needed). */
  async function finishedTasks(count: number): Promise<string[]> {
    const uuids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { taskUuid } = await createTask(database.db, {
        template: templates.get('telemetry_test', 'doomed'),
        context: {},
      });
      await cancelTask(database.db, taskUuid);
      uuids.push(taskUuid);
    }
    return uuids;
  }

  it('collects the tasks that finish within the window into one batch, released by its timer', async () => {
    const uuids = await finishedTasks(4);
    // Only the window's timer is faked: the database round trips in between are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sink = batchRecordingSink();
    const telemetry = createSystemTelemetry({ db: database.db, taskSpans: sink });
    const first = telemetry.recordFinishedTask(uuids[0]!);
    // Time for a batch to start loading, had it not waited for its window.
    await database.db.query('SELECT 1');
    const second = telemetry.recordFinishedTask(uuids[1]!);
    const third = telemetry.recordFinishedTask(uuids[2]!);
    expect(sink.batches).toEqual([]);
    vi.advanceTimersByTime(100);
    await Promise.all([first, second, third]);
    expect(sink.batches).toEqual([uuids.slice(0, 3)]);
    // The next task opens the next window.
    const fourth = telemetry.recordFinishedTask(uuids[3]!);
    vi.advanceTimersByTime(100);
    await fourth;
    expect(sink.batches).toEqual([uuids.slice(0, 3), [uuids[3]]]);
    await telemetry.close();
  });

  it('releases a batch at once when it is full (100 tasks)', async () => {
    const uuids = await finishedTasks(101);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sink = batchRecordingSink();
    const telemetry = createSystemTelemetry({ db: database.db, taskSpans: sink });
    const full = Promise.all(uuids.slice(0, 100).map((uuid) => telemetry.recordFinishedTask(uuid)));
    const next = telemetry.recordFinishedTask(uuids[100]!);
    await full;
    expect(sink.batches).toEqual([uuids.slice(0, 100)]);
    vi.advanceTimersByTime(100);
    await next;
    expect(sink.batches).toEqual([uuids.slice(0, 100), [uuids[100]]]);
    await telemetry.close();
  });

  it('loads a collecting batch at once on flush, without waiting for its window', async () => {
    const uuids = await finishedTasks(2);
    // The window's timer never fires on its own: only flush() can release the batch.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sink = batchRecordingSink();
    const telemetry = createSystemTelemetry({ db: database.db, taskSpans: sink });
    for (const uuid of uuids) void telemetry.recordFinishedTask(uuid);
    await telemetry.flush();
    expect(sink.batches).toEqual([uuids]);
    await telemetry.close();
  });
});
