import autocannon from 'autocannon'
import { type Child, cpuTimeMs, sampleRss } from './processes.js'

export type ServerName = 'baseline' | 'service'
export const SERVERS: readonly ServerName[] = ['baseline', 'service']

export interface LoadSettings {
  connections: number
  warmupSeconds: number
  /** Per server, split into `rounds` rounds. */
  durationSeconds: number
  /** Measured rounds per server, an even number (2 unless set): orders A, B, B, A, A, B, B, A, ... */
  rounds?: number
}

export interface LoadFigures {
  requests: number
  requestsPerSecond: number
  meanMs: number
  p50Ms: number
  p99Ms: number
  /** Non-2xx answers, timeouts and connection errors. */
  errors: number
  /** The server process's own CPU time (user + system) per answered request, over the measured rounds. */
  cpuMsPerRequest: number
  peakRssMiB: number
  /** Each measured round's own rate, in the order measured: how far one round is from the next. */
  roundRequestsPerSecond: number[]
}

let running: autocannon.Instance | undefined

/** Ends the load under way, if any (on Ctrl-C or the time limit). */
export function stopLoad(): void {
  running?.stop()
}

/**
 * Both servers on one path: a warm-up each, then measured rounds in the order baseline, service, service,
 * baseline (and so on, with more rounds), so a drift in what else the machine is doing weighs on both
 * alike. `names` compares other processes the same way (the first in baseline's place), two or more:
 * A, B, C, C, B, A, ...
 */
export async function measurePath<K extends string = ServerName>(
  servers: Record<K, Child>,
  requests: Record<K, autocannon.Request[]>,
  settings: LoadSettings,
  names: readonly K[] = SERVERS as unknown as readonly K[],
): Promise<Record<K, LoadFigures>> {
  const rounds = settings.rounds ?? 2
  const rss = {} as Record<K, { stop(): number }>
  const latencies = {} as Record<K, number[]>
  const errors = {} as Record<K, number>
  const cpuMs = {} as Record<K, number>
  const roundRates = {} as Record<K, number[]>
  for (const server of names) {
    roundRates[server] = []
    rss[server] = sampleRss(servers[server].process.pid)
    latencies[server] = []
    errors[server] = 0
    cpuMs[server] = 0
  }
  for (const server of names)
    await load(servers[server].url, requests[server], settings.warmupSeconds, settings)
  const order = Array.from({ length: Math.max(1, Math.round(rounds / 2)) }, () => [
    ...names,
    ...names.toReversed(),
  ]).flat()
  for (const server of order) {
    const pid = servers[server].process.pid
    const cpuBefore = cpuTimeMs(pid)
    let roundMs = 0
    let roundRequests = 0
    const result = await load(
      servers[server].url,
      requests[server],
      settings.durationSeconds / (order.length / names.length),
      settings,
      (ms) => {
        latencies[server].push(ms)
        roundMs += ms
        roundRequests++
      },
    )
    roundRates[server].push((settings.connections / (roundMs / roundRequests)) * 1000)
    cpuMs[server] += cpuTimeMs(pid) - cpuBefore
    errors[server] += result.non2xx + result.errors
  }
  const figures = {} as Record<K, LoadFigures>
  for (const server of names) {
    const sorted = latencies[server].sort((a, b) => a - b)
    const meanMs = sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length
    figures[server] = {
      requests: sorted.length,
      // autocannon counts its own rate per whole second; Little's law gives it from the exact latencies.
      requestsPerSecond: (settings.connections / meanMs) * 1000,
      meanMs,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      errors: errors[server],
      cpuMsPerRequest: cpuMs[server] / sorted.length,
      peakRssMiB: rss[server].stop(),
      roundRequestsPerSecond: roundRates[server],
    }
  }
  return figures
}

async function load(
  url: string,
  requests: autocannon.Request[],
  seconds: number,
  settings: LoadSettings,
  onResponse?: (latencyMs: number) => void,
): Promise<autocannon.Result> {
  const instance = autocannon({
    url,
    connections: settings.connections,
    duration: seconds,
    timeout: 10,
    requests,
  })
  running = instance
  // autocannon's own histogram keeps whole milliseconds; the event carries the exact latency.
  if (onResponse) {
    instance.on('response', (_client: unknown, _status: number, _bytes: number, latencyMs: number) =>
      onResponse(latencyMs),
    )
  }
  try {
    return await instance
  } finally {
    running = undefined
  }
}

/** The value at `fraction` of an ascending list (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number
}

/** Hands out the items in turn, starting over (and saying so once) when they run out. */
export function cycle<T>(items: readonly T[], onWrap?: () => void): () => T {
  let next = 0
  return () => {
    if (next === items.length) {
      next = 0
      onWrap?.()
      onWrap = undefined
    }
    return items[next++] as T
  }
}

/** One server's figures as the cells of a printed table: req/s, p50, p99, errors, CPU per request. */
export function figureCells(f: LoadFigures): string[] {
  return [
    f.requestsPerSecond.toFixed(0),
    f.p50Ms.toFixed(1),
    f.p99Ms.toFixed(1),
    String(f.errors),
    f.cpuMsPerRequest.toFixed(2),
  ]
}
