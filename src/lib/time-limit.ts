/**
 * Waiting with a time limit, the one way: the promises keep running either way, and the timer never
 * holds the process open past the wait.
 */

/** Whether every one of `promises` settled (resolved or rejected) within `ms`. */
export async function settledWithin(
  promises: readonly (Promise<unknown> | undefined)[],
  ms: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms))
  })
  const settled = Promise.allSettled(promises).then(() => true as const)
  try {
    return await Promise.race([settled, timedOut])
  } finally {
    clearTimeout(timer)
  }
}

/** `promise`'s value, or a rejection once `ms` have passed without one. */
export async function beforeDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), Math.max(0, ms))
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
