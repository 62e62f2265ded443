/** The retry settings of a step, as stored with it. */
export interface RetryPolicy {
  retryable: boolean;
  maxAttempts: number;
  backoff: 'none' | 'linear' | 'exponential';
  backoffBaseMs: number;
  maxBackoffMs: number;
}

/** How long to wait before attempt `failedAttempt + 1`, capped at `maxBackoffMs`. */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  const attempt = Math.max(1, failedAttempt);
  switch (policy.backoff) {
    case 'none':
      return 0;
    case 'linear':
      return Math.min(policy.maxBackoffMs, policy.backoffBaseMs * attempt);
    case 'exponential':
      return Math.min(policy.maxBackoffMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  }
}

/** Whether a failed attempt may be tried again. A permanent error never is. */
export function mayRetry(policy: RetryPolicy, attemptsSoFar: number, permanent: boolean): boolean {
  return !permanent && policy.retryable && attemptsSoFar < policy.maxAttempts;
}
