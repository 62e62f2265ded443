/**
 * Thrown by a handler to fail its step without retrying. Recognised by its brand
 * (`permanent === true`), not `instanceof`, so a handler built against another copy of the
 * package works too.
 */
export class PermanentError extends Error {
  readonly permanent = true as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** True for any error carrying the permanent brand. */
export function isPermanentError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}
