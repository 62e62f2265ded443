import { describe, expect, it } from 'vitest';
import { ATTR, ATTRIBUTE_DOCS } from '../../src/telemetry/attributes.js';
import { METRICS } from '../../src/telemetry/metric-catalog.js';
import * as systemEvents from '../../src/telemetry/system-events.js';
import { SYSTEM_EVENTS, TASK_SPAN, TRANSITION_EVENT_RULES } from '../../src/telemetry/system-events.js';
import { STEP_STATES } from '../../src/state/step-state-machine.js';
import { TASK_STATES } from '../../src/state/task-state-machine.js';

/** The 34 names of spec 1.1, as the spec writes them. */
const SPEC_NAMES = {
  task: [
    'task.initialize_requested',
    'task.start_requested',
    'task.completed',
    'task.failed',
    'task.retry_requested',
    'task.cancelled',
    'task.resolved_manually',
    'task.before_transition',
    'task.steps_discovery_completed',
    'task.steps_enqueued',
    'task.step_results_received',
    'task.awaiting_dependencies',
    'task.retry_backoff_started',
    'task.blocked_by_failures',
  ],
  step: [
    'step.initialize_requested',
    'step.enqueue_requested',
    'step.execution_requested',
    'step.before_handle',
    'step.handle',
    'step.completed',
    'step.failed',
    'step.retry_requested',
    'step.cancelled',
    'step.resolved_manually',
    'step.before_transition',
    'step.result_submitted',
  ],
  workflow: [
    'workflow.task_started',
    'workflow.task_completed',
    'workflow.task_failed',
    'workflow.step_completed',
    'workflow.step_failed',
    'workflow.viable_steps_discovered',
    'workflow.no_viable_steps',
    'workflow.orchestration_requested',
  ],
};

describe('the system event constants', () => {
  it('are the 34 names of the spec, in its order: 14 task, 12 step, 8 workflow', () => {
    expect(SYSTEM_EVENTS.map((event) => event.name)).toEqual([
      ...SPEC_NAMES.task,
      ...SPEC_NAMES.step,
      ...SPEC_NAMES.workflow,
    ]);
    for (const group of ['task', 'step', 'workflow'] as const) {
      expect(SYSTEM_EVENTS.filter((event) => event.group === group).map((event) => event.name)).toEqual(
        SPEC_NAMES[group],
      );
    }
  });

  it('export one constant per event, named as the spec names it', () => {
    for (const event of SYSTEM_EVENTS) {
      expect(event.constant).toBe(event.name.replace('.', '_').toUpperCase());
      expect((systemEvents as Record<string, unknown>)[event.constant]).toBe(event.name);
    }
  });

  it('map every event to telemetry, saying where it is emitted', () => {
    const metricKeys = new Set(Object.keys(METRICS));
    const attributes = new Set(Object.values(ATTR));
    for (const event of SYSTEM_EVENTS) {
      expect(event.telemetry.length, event.name).toBeGreaterThan(0);
      for (const mapping of event.telemetry) {
        expect(mapping.emittedAt, event.name).toMatch(/^src\/\S+\.ts \w+/);
        expect(mapping.when.length, event.name).toBeGreaterThan(0);
        const isMetric = ['counter', 'gauge', 'histogram'].includes(mapping.kind);
        if (isMetric) {
          expect(mapping.metric && metricKeys.has(mapping.metric), event.name).toBe(true);
          const instrument = METRICS[mapping.metric!].instrument;
          expect(instrument).toBe(
            mapping.kind === 'gauge'
              ? 'observable_gauge'
              : mapping.kind === 'counter'
                ? 'counter'
                : 'histogram',
          );
        } else {
          expect(mapping.span, event.name).toMatch(/^(task\.orchestration|step\.execution)$/);
        }
        for (const attribute of mapping.attributes ?? [])
          expect(attributes.has(attribute), attribute).toBe(true);
      }
    }
  });

  it('map every counter and gauge of the spec tables to the event the spec names', () => {
    const metricOf = (name: string, kind: string) =>
      SYSTEM_EVENTS.find((event) => event.name === name)!
        .telemetry.filter((mapping) => mapping.kind === kind)
        .map((mapping) => METRICS[mapping.metric!].name);
    expect(metricOf('task.initialize_requested', 'counter')).toEqual(['tasker.tasks.requests.total']);
    expect(metricOf('task.completed', 'counter')).toEqual(['tasker.tasks.completions.total']);
    expect(metricOf('task.failed', 'counter')).toEqual(['tasker.tasks.failures.total']);
    expect(metricOf('step.completed', 'counter')).toEqual(['tasker.steps.completions.total']);
    expect(metricOf('step.failed', 'counter')).toEqual(['tasker.steps.failures.total']);
    expect(metricOf('task.awaiting_dependencies', 'gauge')).toEqual(['tasker.tasks.waiting']);
    expect(metricOf('task.blocked_by_failures', 'gauge')).toEqual(['tasker.tasks.blocked']);
    expect(metricOf('workflow.viable_steps_discovered', 'gauge')).toEqual(['tasker.steps.ready']);
    expect(METRICS.taskFailures.labels).toEqual(['namespace', 'error_code']);
    expect(METRICS.stepFailures.labels).toEqual(['namespace', 'step_name', 'error_type']);
    expect(METRICS.stepCompletions.labels).toEqual(['namespace', 'step_name']);
  });

  it('give the task span events exactly through the transition rules, and only events mapped to it', () => {
    const mappedToTaskSpan = new Set(
      SYSTEM_EVENTS.filter((event) =>
        event.telemetry.some((mapping) => mapping.kind === 'span_event' && mapping.span === TASK_SPAN),
      ).map((event) => event.name),
    );
    const fromRules = new Set(TRANSITION_EVENT_RULES.flatMap((rule) => rule.events));
    expect([...fromRules].sort()).toEqual([...mappedToTaskSpan].sort());
  });

  it('name only states that exist in the transition rules', () => {
    const task = new Set<string>(TASK_STATES);
    const step = new Set<string>(STEP_STATES);
    for (const rule of TRANSITION_EVENT_RULES) {
      const states = rule.subject === 'task' ? task : step;
      if (rule.to !== '*') expect(states.has(rule.to), rule.to).toBe(true);
      if (typeof rule.from === 'string') expect(states.has(rule.from), rule.from).toBe(true);
    }
  });

  it('give a reason for every event that may never be emitted', () => {
    expect(SYSTEM_EVENTS.filter((event) => event.reason).map((event) => event.name)).toEqual([
      'task.resolved_manually',
    ]);
  });

  it('document every attribute', () => {
    expect(Object.keys(ATTRIBUTE_DOCS).sort()).toEqual(Object.values(ATTR).sort());
  });
});
