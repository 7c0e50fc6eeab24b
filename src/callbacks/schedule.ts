/**
 * When a callback is tried again: at once, then after about 1 s, 5 s, 30 s, 2 min, 10 min and 1 h, then
 * every 3 hours, each wait ±20% at random so that the retries of many events drift apart, until the
 * retry window has passed since the event was made.
 */
export const CALLBACK_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000] as const
export const CALLBACK_RETRY_EVERY_MS = 3 * 3_600_000
export const CALLBACK_RETRY_JITTER = 0.2
/** The longest a caller has to answer one attempt, connection included. */
export const CALLBACK_ATTEMPT_TIMEOUT_MS = 10_000

/**
 * When attempt `attempt + 1` is due should attempt `attempt` (from 1) fail at `now`; undefined when it
 * would fall after the retry window, so attempt `attempt` is the last one made by itself.
 */
export function nextCallbackAttempt(
  attempt: number,
  timing: { eventAt: Date; now: Date; windowMs: number },
  random: () => number,
): Date | undefined {
  const wait = CALLBACK_RETRY_DELAYS_MS[attempt - 1] ?? CALLBACK_RETRY_EVERY_MS
  const jittered = Math.round(wait * (1 - CALLBACK_RETRY_JITTER + 2 * CALLBACK_RETRY_JITTER * random()))
  const at = timing.now.getTime() + jittered
  return at <= timing.eventAt.getTime() + timing.windowMs ? new Date(at) : undefined
}
