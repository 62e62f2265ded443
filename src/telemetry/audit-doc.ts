/**
 * Renders docs/telemetry.md, the telemetry audit of spec 1.4, from the mapping data itself
 * (system-events.ts, metric-catalog.ts, attributes.ts), so the document cannot drift from what
 * the code emits: test/telemetry/audit-doc.test.ts compares the committed file with this
 * output (`npm run docs:telemetry` rewrites it). Pure.
 */
import { ATTRIBUTE_DOCS, ATTR, type AttributeName } from './attributes.js';
import { METRICS, type MetricDefinition } from './metric-catalog.js';
import {
  STEP_SPAN,
  SYSTEM_EVENTS,
  TASK_SPAN,
  TRANSITION_EVENT_RULES,
  type SpanName,
  type SystemEventDefinition,
  type TelemetryMapping,
  type TransitionEventRule,
} from './system-events.js';

const code = (text: string): string => `\`${text}\``;

/** Escapes the characters that would break a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

function describeMapping(mapping: TelemetryMapping): string {
  if (mapping.metric) {
    const metric: MetricDefinition = METRICS[mapping.metric];
    return `${mapping.kind} ${code(metric.name)}{${metric.labels.join(', ')}}`;
  }
  return `${mapping.kind} of ${code(mapping.span ?? '?')}`;
}

function attributeList(attributes: readonly AttributeName[] | undefined): string {
  return attributes && attributes.length > 0 ? attributes.map(code).join(', ') : '—';
}

function eventRows(event: SystemEventDefinition): string[][] {
  return event.telemetry.map((mapping, index) => [
    index === 0 ? code(event.name) : '',
    index === 0 ? code(event.constant) : '',
    index === 0 ? event.purpose : '',
    describeMapping(mapping),
    mapping.when,
    attributeList(mapping.attributes),
    mapping.emittedAt,
  ]);
}

function eventsOnSpan(span: SpanName, kinds: readonly TelemetryMapping['kind'][]): string[] {
  return SYSTEM_EVENTS.flatMap((event) =>
    event.telemetry
      .filter((mapping) => mapping.span === span && kinds.includes(mapping.kind))
      .map((mapping) => `${event.name} → ${mapping.kind.replace(/_/g, ' ')}`),
  );
}

/** Task span events in lifecycle order: as the transition rules list them, task rules first. */
function taskSpanEventLines(): string[] {
  const names = [
    ...TRANSITION_EVENT_RULES.filter((rule) => rule.subject === 'task'),
    ...TRANSITION_EVENT_RULES.filter((rule) => rule.subject === 'step'),
  ].flatMap((rule) => rule.events);
  return [...new Set(names)].map((name) => `${name} → span event`);
}

const ENDS: readonly TelemetryMapping['kind'][] = ['span_end', 'span_end_ok', 'span_end_error'];

/** The span tree of spec 1.2, from the mapping data. */
function spanTree(): string {
  const stepLines = [
    ...eventsOnSpan(STEP_SPAN, ['span_start']),
    ...eventsOnSpan(STEP_SPAN, ['span_event']),
    ...eventsOnSpan(STEP_SPAN, ENDS),
  ];
  const stepSpan = `Step span: ${STEP_SPAN}  (one per attempt; live, in the worker)`;
  const top = [
    ...eventsOnSpan(TASK_SPAN, ['span_start']),
    ...taskSpanEventLines(),
    stepSpan,
    ...eventsOnSpan(TASK_SPAN, ENDS),
  ];
  const lines = [`Task span: ${TASK_SPAN}  (one per task; recorded when the task finishes)`];
  top.forEach((line, index) => {
    const last = index === top.length - 1;
    lines.push(`${last ? '└──' : '├──'} ${line}`);
    if (line === stepSpan) {
      stepLines.forEach((stepLine, stepIndex) => {
        lines.push(
          `${last ? '    ' : '│   '}${stepIndex === stepLines.length - 1 ? '└──' : '├──'} ${stepLine}`,
        );
      });
    }
  });
  return ['```', ...lines, '```'].join('\n');
}

function ruleRow(rule: TransitionEventRule): string[] {
  const from = rule.from === undefined ? 'any' : rule.from === null ? 'none (creation)' : code(rule.from);
  const to = rule.to === '*' ? 'any' : code(rule.to);
  return [
    rule.subject,
    from,
    to,
    rule.trigger ? code(rule.trigger) : 'any',
    rule.events.map(code).join(', '),
  ];
}

const TASK_SPAN_ATTRIBUTES: readonly AttributeName[] = [
  ATTR.taskUuid,
  ATTR.namespace,
  ATTR.taskName,
  ATTR.taskVersion,
  ATTR.correlationId,
  ATTR.taskState,
  ATTR.errorType,
];

const STEP_SPAN_ATTRIBUTES: readonly AttributeName[] = [
  ATTR.taskUuid,
  ATTR.namespace,
  ATTR.taskName,
  ATTR.taskVersion,
  ATTR.stepName,
  ATTR.stepUuid,
  ATTR.stepAttempt,
  ATTR.messagingSystem,
  ATTR.messagingDestination,
  ATTR.messagingMessageId,
  ATTR.errorType,
  ATTR.resultDiscarded,
];

/** The complete docs/telemetry.md. */
export function renderTelemetryDoc(): string {
  const notEmitted = SYSTEM_EVENTS.filter((event) => event.reason !== undefined);
  const counts = (['task', 'step', 'workflow'] as const).map(
    (group) => `${SYSTEM_EVENTS.filter((event) => event.group === group).length} ${code(`${group}.*`)}`,
  );
  return `<!-- Generated by \`npm run docs:telemetry\` from src/telemetry/system-events.ts, metric-catalog.ts and attributes.ts. Do not edit. -->

# Telemetry: system events

System events (tier 1 of the event system, spec part 1) exist only as OpenTelemetry spans,
span events, counters, gauges and a histogram. They are for operators: there is no API to
subscribe to them, and domain events cannot use their names (\`task.\`, \`step.\` and
\`workflow.\` names and patterns are refused by the template loader and by
\`EventRegistry.subscribe\`). This page lists all ${SYSTEM_EVENTS.length} of them (${counts.join(', ')}),
what each one becomes, and where in the code it is emitted.

## Turning it on

The library depends on \`@opentelemetry/api\` only and records through whatever SDK the
process registered. The \`tasker orchestrator\`, \`tasker worker\` and \`tasker run\` commands
(and \`tasker task create|cancel\`, \`tasker step resolve\`) wire the SDK themselves when
telemetry is enabled; when it is not, they load none of it.

${table(
  ['Setting', 'Environment variable', 'Meaning'],
  [
    ['`telemetry.enabled`', '`TELEMETRY_ENABLED`', 'Record and export system events (default false).'],
    [
      '`telemetry.otlp_endpoint`',
      '`OTEL_EXPORTER_OTLP_ENDPOINT`',
      'Base URL of an OTLP/HTTP receiver: traces go to `<endpoint>/v1/traces`, metrics to `<endpoint>/v1/metrics`. Use the HTTP port (4318 by convention), not gRPC 4317. Unset: nothing is exported over OTLP.',
    ],
    ['—', '`OTEL_EXPORTER_OTLP_PROTOCOL`', '`http/protobuf` (default) or `http/json`. gRPC is not offered.'],
    [
      '`telemetry.service_name`',
      '`OTEL_SERVICE_NAME`',
      'Resource attribute `service.name` (default `tasker`).',
    ],
    [
      '`telemetry.deployment_environment`',
      '`DEPLOYMENT_ENVIRONMENT`',
      'Resource attributes `deployment.environment.name` and `deployment.environment`.',
    ],
    [
      '`telemetry.prometheus_port`',
      '`TASKER__TELEMETRY__PROMETHEUS_PORT`',
      'Serve Prometheus `/metrics` on this port (per process: give the orchestrator and the worker different ports).',
    ],
    ['—', '`OTEL_METRIC_EXPORT_INTERVAL`', 'Milliseconds between OTLP metric exports (default 60000).'],
  ],
)}

Each process also sets \`service.instance.id\` (host and pid) and \`tasker.process.role\`
(\`orchestrator\`, \`worker\`, \`run\` or \`cli\`). Spans and a last metric collection are
exported when the process stops (SIGTERM or Ctrl-C); with the collector unreachable, the
exporter's retries can keep a process up to \`OTEL_EXPORTER_OTLP_TIMEOUT\` (10 s) longer.

In code, the engine records system events when \`startEngine\` gets a \`telemetry\` option made by
\`createSystemTelemetry({ db })\` (src/telemetry/system-telemetry.ts), which records through the
global (or given) tracer and meter providers. The tracer provider must use the id generator of
\`createPresetIdGenerator()\` (src/telemetry/id-generator.ts), or task spans get random ids and
step spans do not nest under them; without the SDK installed, everything is a no-op. With an
OTLP endpoint, \`tasker orchestrator\`, \`worker\` and \`run\` record task spans in a worker thread
(src/cli/task-span-thread.ts, with its own tracer provider exporting to the same endpoint): the
engine's thread loads a finished batch's histories as one JSON string and hands it over, and the
rebuilding, serializing and exporting of the spans (an event per transition) happen in that
thread; should the thread fail, the main thread takes over. A batch collects the tasks that
finish within 100 ms (at most 100 tasks), so a busy process costs one history query and one
hand-over per batch; the task span and the task counters therefore lag the task's end by the
window (up to 100 ms) plus the loading of the batch before, and \`flush()\`/\`close()\` record
what is collecting at once. Elsewhere (a library caller, the other commands) task spans are
recorded in the engine's thread.

## Span hierarchy

${spanTree()}

- **${code(TASK_SPAN)}**: one per task, one trace per task (joining the creator's trace when
  \`createTask\` runs inside an active span). Its trace and span id are chosen when the task is
  created and stored in \`tasks.traceparent\`; every step message carries them in its PGMQ
  headers (\`traceparent\`), so the steps' spans are its children although they run in other
  processes. The span itself is recorded once, when the task reaches a final state, by the
  process whose transaction finished it, from the persisted history: it starts at
  \`tasks.created_at\`, ends at \`completed_at\`, and its events are the transitions of the task
  and its steps, stamped with the time of the transaction that wrote them. However many orchestrators worked on the task,
  it is one span in one trace. Status: OK for \`complete\` (and \`resolved_manually\`), ERROR for
  \`error\`, unset for \`cancelled\`. Kind INTERNAL. Attributes: ${attributeList(TASK_SPAN_ATTRIBUTES)}.
- **${code(STEP_SPAN)}**: one per attempt, recorded live by the worker from the claim to the
  committed report, a child of the task span (remote parent from the message header). Kind
  CONSUMER. Status OK or ERROR (exception event with the error name and message). Attributes:
  ${attributeList(STEP_SPAN_ATTRIBUTES)}. An attempt whose worker died has no span of its own; the
  task span shows it (\`step.before_transition\` with \`tasker.step.lost\`) and
  \`tasker.steps.failures.total\` counts it with \`error_type\` \`WorkerLost\`.

Events of one transaction share a timestamp (\`tasker.transition_time()\`: the moment the
transaction first writes history, after any wait for the task's lock, so transactions that
take turns on a task are stamped in the order they wrote) and appear in the engine's logical
order: creation, steps settled, the task's moves up to \`enqueuing_steps\`, steps enqueued,
then the task's other moves. Step events of the task span
name the step (\`tasker.step.name\`, unique within a task); its uuid is on its \`step.execution\`
spans. Step spans use the worker's clock and task spans the database server's: keep the hosts'
clocks synchronised (NTP) for the two to line up.

## The ${SYSTEM_EVENTS.length} system events

${table(
  ['Event', 'Constant', 'Purpose (spec)', 'Telemetry', 'When', 'Event attributes', 'Emitted at'],
  SYSTEM_EVENTS.flatMap(eventRows),
)}

### Not always emitted

${notEmitted.length === 0 ? 'Every event is emitted.' : notEmitted.map((event) => `- ${code(event.name)}: ${event.reason ?? ''}`).join('\n')}

## Task span events by transition

The rules (\`TRANSITION_EVENT_RULES\`) that turn each persisted transition into span events of
${code(TASK_SPAN)}; a transition gets the events of every matching rule, in this order. The
trigger of an evaluation is \`step_result\` when a step result was accepted in the same
transaction, \`manual_resolution\` when a step was resolved by hand in it, else \`retry_due\`.

${table(['Subject', 'From', 'To', 'Trigger', 'Span events'], TRANSITION_EVENT_RULES.map(ruleRow))}

## Metrics

Metric labels keep the short names of the spec's tables. Counters are cumulative and
monotonic; the gauges read the database when a reader collects, never on the engine's path.

${table(
  ['Metric', 'Instrument', 'Unit', 'Labels', 'Meaning', 'Reported by', 'Recorded at'],
  Object.values(METRICS).map((metric: MetricDefinition) => [
    code(metric.name),
    metric.instrument,
    code(metric.unit),
    metric.labels.map(code).join(', '),
    metric.description,
    metric.reportedBy,
    metric.recordedAt,
  ]),
)}

In Prometheus the dots become underscores and counters keep their \`_total\` suffix, e.g.
\`tasker_steps_completions_total{namespace="payments",step_name="charge_card"}\`.

## Attributes

${table(
  ['Attribute', 'Type', 'Meaning'],
  (Object.keys(ATTRIBUTE_DOCS) as AttributeName[]).map((name) => [
    code(name),
    ATTRIBUTE_DOCS[name].type,
    ATTRIBUTE_DOCS[name].description,
  ]),
)}
`;
}
