import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { TaskerError } from '../errors.js';
import type { StepContext } from './step-context.js';

/** A step handler: a function of the step context, or a class with `call(ctx)`. */
export type StepHandler = (ctx: StepContext) => unknown;

/** What a handler module may export (DESIGN.md "Handler modules"). */
export interface HandlerModule {
  handlers: Map<string, StepHandler>;
  /** The raw `subscribers` export, validated by the event registry. */
  subscribers: unknown[];
  source: string;
  /** Everything the module exports. */
  exports: Record<string, unknown>;
}

function isClass(value: unknown): value is new () => { call(ctx: StepContext): unknown } {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** Turns one `handlers` entry into a callable, or explains why it cannot be one. */
function toHandler(key: string, value: unknown, source: string): StepHandler {
  if (isClass(value)) {
    if (typeof (value.prototype as { call?: unknown }).call !== 'function') {
      throw new TaskerError(
        'HANDLER_INVALID',
        `${source}: handlers["${key}"] is a class without a call(ctx) method`,
      );
    }
    return (ctx) => new value().call(ctx);
  }
  if (typeof value === 'function') return value as StepHandler;
  throw new TaskerError('HANDLER_INVALID', `${source}: handlers["${key}"] is not a function or class`);
}

/**
 * Loads a handler module (`.js`, `.mjs`, or `.ts` without a build step). A module that only
 * exports `subscribers` (for `tasker events consume`) passes with `requireHandlers: false`.
 */
export async function loadHandlerModule(
  path: string,
  options: { requireHandlers?: boolean } = {},
): Promise<HandlerModule> {
  const absolute = resolve(path);
  let exports: Record<string, unknown>;
  try {
    exports = /\.(c|m)?ts$/.test(absolute)
      ? ((await tsImport(pathToFileURL(absolute).href, import.meta.url)) as Record<string, unknown>)
      : ((await import(pathToFileURL(absolute).href)) as Record<string, unknown>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TaskerError('HANDLER_INVALID', `cannot load handler module ${path}: ${message}`, {
      cause: error,
    });
  }
  const raw = exports.handlers ?? (options.requireHandlers === false ? {} : undefined);
  if (typeof raw !== 'object' || raw === null) {
    throw new TaskerError('HANDLER_INVALID', `${path} does not export a \`handlers\` object`);
  }
  const handlers = new Map<string, StepHandler>();
  for (const [key, value] of Object.entries(raw)) handlers.set(key, toHandler(key, value, path));
  const subscribers = exports.subscribers ?? [];
  if (!Array.isArray(subscribers)) {
    throw new TaskerError('HANDLER_INVALID', `${path}: \`subscribers\` must be an array`);
  }
  return { handlers, subscribers: subscribers as unknown[], source: path, exports };
}

/** Fails when a template names a callable the module does not export, listing what it has. */
export function assertHandlersExist(module: HandlerModule, callables: Iterable<string>): void {
  const missing = [...new Set(callables)].filter((callable) => !module.handlers.has(callable));
  if (missing.length > 0) {
    const have = [...module.handlers.keys()].join(', ') || 'none';
    throw new TaskerError(
      'HANDLER_INVALID',
      `${module.source} does not export handler${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has: ${have})`,
    );
  }
}
