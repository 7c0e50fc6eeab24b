export interface BatchOptions<Request> {
  /** The most requests one batch takes; the rest wait for the next, in the order they came. */
  maxBatch?: number
  /** Requests of the same key never share a batch: a later one waits for the next. */
  apartBy?: (request: Request) => unknown
  /**
   * When a batch of several fails, its requests are run again alone, one after another, so one bad request
   * fails only itself. Without it, the batch's error reaches each of its requests.
   */
  retryEachAlone?: boolean
}

interface Waiting<Request, Result> {
  request: Request
  resolve: (result: Result) => void
  reject: (error: unknown) => void
}

/**
 * Answers requests in batches, one batch at a time: a request made while no batch runs starts one at once,
 * and requests made while one runs wait and go together in the next. Under load many requests share one
 * statement; at rest each goes alone without delay. `run` answers a batch in the order of its requests.
 * Each request is answered (or fails) with its own batch; a failed batch does not stop the next.
 */
export function batchWhileRunning<Request, Result>(
  run: (batch: Request[]) => Promise<readonly Result[]>,
  options: BatchOptions<Request> = {},
): (request: Request) => Promise<Result> {
  const { maxBatch = Number.POSITIVE_INFINITY, apartBy, retryEachAlone = false } = options
  let waiting: Waiting<Request, Result>[] = []
  let running = false

  function nextBatch(): Waiting<Request, Result>[] {
    const batch: Waiting<Request, Result>[] = []
    const later: Waiting<Request, Result>[] = []
    const keys = new Set<unknown>()
    for (const entry of waiting) {
      const key = apartBy?.(entry.request)
      if (batch.length < maxBatch && (apartBy === undefined || !keys.has(key))) {
        keys.add(key)
        batch.push(entry)
      } else later.push(entry)
    }
    waiting = later
    return batch
  }

  async function answer(batch: Waiting<Request, Result>[]): Promise<void> {
    try {
      const results = await run(batch.map((entry) => entry.request))
      for (const [index, entry] of batch.entries()) entry.resolve(results[index] as Result)
    } catch (error) {
      if (retryEachAlone && batch.length > 1) for (const entry of batch) await answer([entry])
      else for (const entry of batch) entry.reject(error)
    }
  }

  async function drain(): Promise<void> {
    running = true
    while (waiting.length > 0) await answer(nextBatch())
    running = false
  }

  return (request) =>
    new Promise<Result>((resolve, reject) => {
      waiting.push({ request, resolve, reject })
      if (!running) void drain()
    })
}
