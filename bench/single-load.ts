import autocannon from 'autocannon'
import { percentile } from './load.js'

/** One server under load for a while: what the history and pruning runs compare, before and after. */
export interface SingleFigures {
  requests: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
}

/**
 * `requests` against `url` from `connections` connections for `seconds` (or until `until` resolves,
 * when given, but at least `seconds`); figures from every response's exact latency.
 */
export async function loadOne(
  url: string,
  requests: autocannon.Request[],
  options: { connections: number; seconds: number; until?: Promise<unknown> },
): Promise<SingleFigures> {
  const latencies: number[] = []
  let errors = 0
  const instance = autocannon({
    url,
    connections: options.connections,
    // Ended by `until` when it is given; a day is only the bound.
    duration: options.until ? 86_400 : options.seconds,
    timeout: 10,
    requests,
  })
  instance.on('response', (_client: unknown, status: number, _bytes: number, latencyMs: number) => {
    if (status >= 300) errors++
    latencies.push(latencyMs)
  })
  if (options.until) {
    const minimum = new Promise((resolve) => setTimeout(resolve, options.seconds * 1000))
    void Promise.all([options.until.catch(() => {}), minimum]).then(() => instance.stop())
  }
  const result = await instance
  errors += result.errors
  const sorted = latencies.sort((a, b) => a - b)
  const meanMs = sorted.reduce((sum, ms) => sum + ms, 0) / Math.max(1, sorted.length)
  return {
    requests: sorted.length,
    requestsPerSecond: (options.connections / meanMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
  }
}

export const describeFigures = (f: SingleFigures) =>
  `${f.requestsPerSecond.toFixed(0)} req/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms` +
  `${f.errors ? `, ${f.errors} errors` : ''} (${f.requests} requests)`
