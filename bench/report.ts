import type { BatchCreationFigures } from './batches.js'
import type { EndToEndFigures } from './end-to-end.js'
import { EXPORT_RSS_TARGET_MIB, type ExportRssResult } from './export-rss.js'
import type { HistoryFigures } from './history.js'
import { figureCells, type LoadFigures, type ServerName } from './load.js'

export type PathName = 'webhook' | 'creation' | 'read'

/** What the service must reach (DESIGN.md, "Cost budget"); ratios are service / baseline. */
export const TARGETS = {
  ratio: { webhook: 1.0, creation: 0.8, read: 0.8 } satisfies Record<PathName, number>,
  /** p99 against the baseline's p99 in the same run (the absolute 50 ms was withdrawn: the baseline misses it too). */
  p99Ratio: 1.0,
  peakRssMiB: 200,
  idleRssMiB: 120,
  readyMs: 1500,
  callbackP50Ms: 50,
  /** Creation with GOAPI_MAX_CONCURRENCY on (not reached) against off, and against the baseline (issue 20). */
  capOnRatio: 0.9,
  /** CPU per request of the service against the baseline's, on every path (issue 20). */
  cpuPerRequestRatio: 1.25,
  /** "Well under a second" for a batch of 1,000. */
  batchCreationMs: 1000,
}

export interface Ratio {
  requestsPerSecond: number
  p50: number
  p99: number
  cpuPerRequest: number
  peakRss: number
}

export type PathFigures = Record<ServerName, LoadFigures> & { ratio: Ratio }

export interface Results {
  date: string
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] }
  settings: {
    connections: number
    warmupSeconds: number
    durationSeconds: number
    webhookRows: number
    e2eCaptions: number
  }
  start: Record<ServerName, { readyMs: number; idleRssMiB: number }>
  paths: Partial<Record<PathName, PathFigures>>
  /** Creation with the cap on (GOAPI_MAX_CONCURRENCY, never reached) and off, measured in the same rounds. */
  cap?: { max: number; on: LoadFigures; off: LoadFigures; heldAfter: number }
  endToEnd?: EndToEndFigures
  batches?: { creation: BatchCreationFigures; exportRss: ExportRssResult }
  /**
   * Each path's control: a twin process of the service (same settings and database), measured in the
   * same rounds, against the service, twin / service. Two identical servers: this run's noise.
   */
  control?: Partial<Record<PathName, Ratio>>
  /** `--history N`: the young database against one with N finished captions, in alternating rounds. */
  history?: HistoryFigures
  notes: string[]
}

export function ratio(figures: Record<ServerName, LoadFigures>): Ratio {
  const { service, baseline } = figures
  return {
    requestsPerSecond: service.requestsPerSecond / baseline.requestsPerSecond,
    p50: service.p50Ms / baseline.p50Ms,
    p99: service.p99Ms / baseline.p99Ms,
    cpuPerRequest: service.cpuMsPerRequest / baseline.cpuMsPerRequest,
    peakRss: service.peakRssMiB / baseline.peakRssMiB,
  }
}

export function describePath(name: PathName, server: ServerName, f: LoadFigures): string {
  return (
    `bench: ${name.padEnd(8)} ${server.padEnd(8)} ${f.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
    `p50 ${f.p50Ms.toFixed(1)} ms  p99 ${f.p99Ms.toFixed(1)} ms  errors ${f.errors}  ` +
    `CPU ${f.cpuMsPerRequest.toFixed(2)} ms/req  peak RSS ${f.peakRssMiB.toFixed(1)} MiB`
  )
}

export function describeControl(name: PathName, r: Ratio): string {
  return (
    `bench: ${name.padEnd(8)} control  twin / service: req/s ${r.requestsPerSecond.toFixed(2)}x  ` +
    `p50 ${r.p50.toFixed(2)}x  p99 ${r.p99.toFixed(2)}x  CPU ${r.cpuPerRequest.toFixed(2)}x`
  )
}

const times = (value: number) => `${value.toFixed(2)}x`

/** A row of ratios in the closing table, under the figures they compare. */
function ratioRow(name: PathName, label: string, r: Ratio): string[] {
  return [
    name,
    label,
    times(r.requestsPerSecond),
    times(r.p50),
    times(r.p99),
    '',
    times(r.cpuPerRequest),
    times(r.peakRss),
  ]
}

/** The closing table, then each target met or missed. */
export function formatTable(results: Results): string {
  const rows: string[][] = [
    ['path', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/req', 'peak RSS MiB'],
  ]
  const checks: [string, boolean][] = []
  for (const [name, figures] of Object.entries(results.paths) as [PathName, PathFigures][]) {
    for (const server of ['baseline', 'service'] as const) {
      const f = figures[server]
      rows.push([name, server, ...figureCells(f), f.peakRssMiB.toFixed(1)])
    }
    const r = figures.ratio
    rows.push(ratioRow(name, 'ratio', r))
    const control = results.control?.[name]
    if (control) rows.push(ratioRow(name, 'control', control))
    const target = TARGETS.ratio[name]
    checks.push([`${name}: req/s >= ${target.toFixed(1)}x baseline`, r.requestsPerSecond >= target])
    checks.push([`${name}: p99 <= ${TARGETS.p99Ratio.toFixed(1)}x baseline p99`, r.p99 <= TARGETS.p99Ratio])
    checks.push([
      `${name}: CPU per request <= ${TARGETS.cpuPerRequestRatio}x baseline`,
      r.cpuPerRequest <= TARGETS.cpuPerRequestRatio,
    ])
    checks.push([
      `${name}: peak RSS < ${TARGETS.peakRssMiB} MiB`,
      figures.service.peakRssMiB < TARGETS.peakRssMiB,
    ])
  }
  const cap = results.cap
  if (cap) {
    for (const [server, f] of [
      ['cap off', cap.off],
      ['cap on', cap.on],
    ] as const) {
      rows.push([
        'creation',
        server,
        f.requestsPerSecond.toFixed(0),
        f.p50Ms.toFixed(1),
        f.p99Ms.toFixed(1),
        String(f.errors),
        f.cpuMsPerRequest.toFixed(2),
        f.peakRssMiB.toFixed(1),
      ])
    }
    const onOff = cap.on.requestsPerSecond / cap.off.requestsPerSecond
    rows.push(['creation', 'on/off', `${onOff.toFixed(2)}x`, '', '', '', '', ''])
    checks.push([
      `creation: req/s with the cap on >= ${TARGETS.capOnRatio}x cap off`,
      onOff >= TARGETS.capOnRatio,
    ])
    const creation = results.paths.creation
    if (creation) {
      checks.push([
        `creation: req/s with the cap on >= ${TARGETS.capOnRatio}x baseline`,
        creation.ratio.requestsPerSecond >= TARGETS.capOnRatio,
      ])
    }
    checks.push([`the cap (${cap.max}) not reached (${cap.heldAfter} slots held)`, cap.heldAfter < cap.max])
  }
  const { service, baseline } = results.start
  rows.push(['idle', 'baseline', '', '', '', '', '', baseline.idleRssMiB.toFixed(1)])
  rows.push(['idle', 'service', '', '', '', '', '', service.idleRssMiB.toFixed(1)])
  checks.push([`idle RSS < ${TARGETS.idleRssMiB} MiB`, service.idleRssMiB < TARGETS.idleRssMiB])
  checks.push([`ready < ${TARGETS.readyMs} ms`, service.readyMs < TARGETS.readyMs])
  const e2e = results.endToEnd
  if (e2e) {
    checks.push([`end-to-end callback p50 < ${TARGETS.callbackP50Ms} ms`, e2e.p50Ms < TARGETS.callbackP50Ms])
  }

  const batches = results.batches
  if (batches) {
    checks.push([
      `POST /batches of ${batches.creation.items} items < ${TARGETS.batchCreationMs} ms (slowest run)`,
      batches.creation.maxMs < TARGETS.batchCreationMs,
    ])
    checks.push([
      `export of ${batches.exportRss.captions} captions raises RSS < ${EXPORT_RSS_TARGET_MIB} MiB`,
      batches.exportRss.riseMiB < EXPORT_RSS_TARGET_MIB,
    ])
  }

  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd()
  return [
    ...rows.map(line),
    ...(results.control
      ? [
          '',
          'control: the service against a twin of itself (a second process, same settings and database), measured',
          'as against the baseline, twin / service: how far apart two identical servers land in this run. A ratio',
          "to the baseline nearer its target than the control is to 1.00x is within the run's own noise.",
        ]
      : []),
    '',
    `ready (spawn -> /readyz 200): service ${service.readyMs.toFixed(0)} ms, baseline ${baseline.readyMs.toFixed(0)} ms`,
    ...(e2e
      ? [
          `end to end (webhook 2xx -> callback, ${e2e.callbacks}/${e2e.captions}): ` +
            `p50 ${e2e.p50Ms.toFixed(1)} ms, p99 ${e2e.p99Ms.toFixed(1)} ms, max ${e2e.maxMs.toFixed(1)} ms`,
        ]
      : []),
    ...(batches
      ? [
          `POST /batches of ${batches.creation.items} items: p50 ${batches.creation.p50Ms.toFixed(0)} ms, ` +
            `max ${batches.creation.maxMs.toFixed(0)} ms over ${batches.creation.runs} runs`,
          `export of ${batches.exportRss.captions} captions (zip then jsonl, one at a time): RSS ` +
            `${batches.exportRss.baselineRssMiB.toFixed(1)} -> ${batches.exportRss.peakRssMiB.toFixed(1)} MiB ` +
            `(rise ${batches.exportRss.riseMiB.toFixed(1)} MiB; every zip at once: rise ` +
            `${batches.exportRss.concurrentRiseMiB.toFixed(1)} MiB)`,
        ]
      : []),
    '',
    'targets:',
    ...checks.map(([name, met]) => `  ${met ? 'met   ' : 'missed'} ${name}`),
  ].join('\n')
}
