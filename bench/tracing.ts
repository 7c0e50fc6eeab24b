import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Results } from './report.js'

/**
 * `BENCH_TRACING=1 npm run bench`: the service exports its traces (http/protobuf, every span sampled)
 * to this collector, which accepts everything and reads nothing. The figures go to
 * `bench/results/latest-tracing.json`; `npx tsx bench/tracing.ts` then sets each path beside the run
 * without tracing (`bench/results/latest.json`).
 */
export const TRACING = process.env.BENCH_TRACING === '1'

/**
 * What the service is given to trace: the collector, and the sampler when `BENCH_OTEL_TRACES_SAMPLER`
 * (and `BENCH_OTEL_TRACES_SAMPLER_ARG`) name one (`parentbased_traceidratio` and `0.1`, say); without
 * them, the SDK's default: every request sampled.
 */
export function tracingEnv(collectorUrl: string): Record<string, string> {
  const sampler = process.env.BENCH_OTEL_TRACES_SAMPLER
  const samplerArg = process.env.BENCH_OTEL_TRACES_SAMPLER_ARG
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    ...(sampler ? { OTEL_TRACES_SAMPLER: sampler } : {}),
    ...(samplerArg ? { OTEL_TRACES_SAMPLER_ARG: samplerArg } : {}),
  }
}

export async function startOtlpSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-protobuf' })
      response.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Each path's service/baseline ratio with tracing, relative to the same ratio without (1.00 = no cost). */
export function tracingCost(off: Results, on: Results): string[] {
  const lines: string[] = []
  for (const name of ['webhook', 'creation', 'read'] as const) {
    const [without, withTracing] = [off.paths[name]?.ratio, on.paths[name]?.ratio]
    if (!without || !withTracing) continue
    lines.push(
      `tracing: ${name.padEnd(8)} req/s ${(withTracing.requestsPerSecond / without.requestsPerSecond).toFixed(2)}  ` +
        `p99 ${(withTracing.p99 / without.p99).toFixed(2)}  ` +
        `cpu/req ${(withTracing.cpuPerRequest / without.cpuPerRequest).toFixed(2)}`,
    )
  }
  if (off.endToEnd && on.endToEnd)
    lines.push(
      `tracing: end to end p50 ${(on.endToEnd.p50Ms / off.endToEnd.p50Ms).toFixed(2)}  ` +
        `p99 ${(on.endToEnd.p99Ms / off.endToEnd.p99Ms).toFixed(2)}`,
    )
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFile } = await import('node:fs/promises')
  const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Results
  const off = await read('bench/results/latest.json')
  const on = await read('bench/results/latest-tracing.json')
  for (const line of tracingCost(off, on)) console.log(line)
}
