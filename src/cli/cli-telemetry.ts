import { createSystemTelemetry, type SystemTelemetry } from '../telemetry/system-telemetry.js';
import type { Runtime } from './runtime.js';

/** Telemetry of one CLI command: the system telemetry to hand to the engine, if enabled. */
export interface CliTelemetry {
  /** Undefined when `telemetry.enabled` is false. */
  readonly system: SystemTelemetry | undefined;
  /** Finishes recordings, exports what is buffered and stops the exporters. Call before closing the database. */
  close(): Promise<void>;
}

const DISABLED: CliTelemetry = { system: undefined, close: () => Promise.resolve() };

/**
 * Starts the OpenTelemetry SDK for a CLI process when `telemetry.enabled` (TELEMETRY_ENABLED)
 * is set. The SDK is imported only then, so a process without telemetry loads none of it.
 * `gauges`: also report the database gauges (orchestrators and `tasker run`).
 */
export async function openCliTelemetry(
  runtime: Runtime,
  role: 'orchestrator' | 'worker' | 'run' | 'cli',
  options: { gauges?: boolean } = {},
): Promise<CliTelemetry> {
  if (!runtime.config.telemetry.enabled) return DISABLED;
  const { startTelemetrySdk } = await import('./telemetry-sdk.js');
  const sdk = await startTelemetrySdk(runtime.config.telemetry, role);
  const system = createSystemTelemetry({
    db: runtime.db,
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
    gauges: options.gauges === true,
    ...(sdk.taskSpans ? { taskSpans: sdk.taskSpans } : {}),
  });
  if (sdk.prometheusUrl) process.stderr.write(`${role}: Prometheus metrics on ${sdk.prometheusUrl}\n`);
  return {
    system,
    async close() {
      await system.close();
      await sdk.shutdown();
    },
  };
}
