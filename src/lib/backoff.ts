export interface BackoffPolicy {
  baseMs: number
  factor: number
  maxMs: number
}

/**
 * Exponential backoff with equal jitter: attempt 1 waits about `baseMs`, each next one `factor` times
 * longer up to `maxMs`; half of each wait is random, so replicas retrying together drift apart.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export const SUBMIT_RETRY: BackoffPolicy = { baseMs: 2_000, factor: 2, maxMs: 5 * 60_000 }
/** The longest `Retry-After` honoured as given; a longer one is treated as this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000

export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms)
}
