import { isPermanentError } from './permanent-error.js';
import type { StepHandler } from './handler-module.js';
import type { StepContext } from './step-context.js';
import { toErrorRecord, type AttemptOutcome } from './step-report.js';

/** Raised into the attempt when a handler runs longer than its step's `timeout_seconds`. */
export class StepTimeoutError extends Error {
  constructor(stepName: string, seconds: number) {
    super(`step ${stepName} timed out after ${seconds}s`);
    this.name = 'StepTimeoutError';
  }
}

/**
 * Checks that a result can be stored as JSON and handed to dependent steps unchanged;
 * BigInt, functions at the top level and cycles cannot.
 */
function serialisable(stepName: string, value: unknown): AttemptOutcome {
  try {
    const text = JSON.stringify(value ?? null);
    if (text === undefined) throw new Error(`a ${typeof value} has no JSON form`);
    return { ok: true, result: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: {
        name: 'ResultNotSerialisable',
        message: `step ${stepName} returned a value that is not JSON-serialisable: ${reason}`,
        permanent: true,
      },
    };
  }
}

/**
 * Runs one attempt of a handler with the step's timeout and turns the way it ended into an
 * outcome: a result, a retryable error, or a permanent one.
 */
export async function runHandler(
  handler: StepHandler,
  ctx: Omit<StepContext, 'signal'>,
  timeoutSeconds: number,
): Promise<AttemptOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StepTimeoutError(ctx.step.name, timeoutSeconds);
      controller.abort(error);
      reject(error);
    }, timeoutSeconds * 1000);
  });
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => handler({ ...ctx, signal: controller.signal })),
      timedOut,
    ]);
    return serialisable(ctx.step.name, value);
  } catch (error) {
    return { ok: false, error: toErrorRecord(error, isPermanentError(error)) };
  } finally {
    clearTimeout(timer);
  }
}
