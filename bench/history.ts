/**
 * History mode (`npm run bench -- --history 1000000`, or BENCH_HISTORY_ROWS): two databases made on the
 * bench's PostgreSQL server, one young (a day of finished work) and one holding a long history of it
 * (bench/history-seed.ts), each with its own service process started with the same env; every path is
 * measured on both in alternating rounds (young, history, history, young, ...), so that what else the
 * machine does weighs on both alike, and so are the background statements' database times. Each
 * background statement's plan on the history is printed, and the run fails on a sequential scan of
 * captions in any of them.
 */
import type autocannon from 'autocannon'
import pg from 'pg'
import { applyMigrations } from '../src/db/schema-engine.js'
import { type SeededCaption, seedPendingCaptions } from './captions.js'
import { type BackgroundPlan, explainBackground, scansCaptions } from './history-plans.js'
import { HISTORY_TASK_PREFIX, seedHistory } from './history-seed.js'
import { cycle, figureCells, type LoadFigures, type LoadSettings, measurePath } from './load.js'
import type { Child } from './processes.js'

export const historyRows = (argv: readonly string[]): number => {
  const flag = argv.indexOf('--history')
  const value = flag >= 0 ? argv[flag + 1] : process.env.BENCH_HISTORY_ROWS
  return Number(value || 0)
}

export interface HistoryRun {
  /** A pool on the bench's database; the two databases are made beside it, on the same server. */
  db: pg.Pool
  /** The service's DATABASE_URL in the main run: the two databases' URLs differ only in their name. */
  databaseUrl: string
  caller: string
  authorization: string
  webhookSecret: string
  /** The body of GoAPI's completed webhook for a task, signed with a caption's secret. */
  webhookBody: (taskId: string, secret: string) => string
  /** Pending captions seeded in each database before its service starts, for the webhook path. */
  webhookRows: number
  load: LoadSettings
  /** A service process on `databaseUrl`, with the main run's env otherwise, ready and settled. */
  startService: (name: string, databaseUrl: string) => Promise<Child>
  stopService: (child: Child) => Promise<void>
}

export type HistoryPath = 'webhook' | 'creation' | 'read' | 'list' | 'usage' | 'metrics'
export type Age = 'young' | 'history'
const AGES = ['young', 'history'] as const

/** Within 15% of the young database's figures. */
const WITHIN = 1.15
/**
 * Finished captions of the history's own kind (bench/history-seed.ts) seeded into the young database too,
 * as one day of work: a read on each database goes round captions of the same kind and number, so that
 * what it measures is the table's age, not a larger caption (a history caption's resource is about
 * twice a webhook-completed one's).
 */
const YOUNG_HISTORY_ROWS = 30_000
/** Runs of every background statement on each database, alternating: the median of each is compared. */
const PLAN_RUNS = 3
/** Measured rounds per path and database (young, history, history, young, young, history, ...). */
const ROUNDS = 4

export interface HistoryFigures {
  rows: number
  seedSeconds: number
  paths: Record<HistoryPath, Record<Age, LoadFigures> & { ratio: HistoryRatio }>
  /** Database time of a worker round (every claim) and of a /metrics scrape's statements, median of runs. */
  background: Record<'round' | '/metrics', Record<Age, number> & { ratio: number; within: boolean }>
}

export interface HistoryRatio {
  requestsPerSecond: number
  p99: number
  cpuPerRequest: number
  /** History's req/s over young's, round by round (the n-th round of each): the spread is the noise. */
  roundRequestsPerSecond: number[]
  /** Which of the three are not within 15% of the young database's. */
  missed: string[]
}

export async function runHistory(
  rows: number,
  run: HistoryRun,
): Promise<{ failed: boolean; notes: string[]; figures: HistoryFigures }> {
  const notes: string[] = []
  const open: (() => Promise<void>)[] = []
  try {
    const dbs = {} as Record<Age, pg.Pool>
    const urls = {} as Record<Age, string>
    for (const age of AGES) {
      const url = new URL(run.databaseUrl)
      url.pathname = `/bench_${age}`
      await run.db.query(`CREATE DATABASE bench_${age}`)
      await applyMigrations(url.toString())
      const pool = new pg.Pool({ connectionString: url.toString(), max: 4 })
      pool.on('error', () => {})
      open.push(() => pool.end())
      dbs[age] = pool
      urls[age] = url.toString()
    }

    const started = Date.now()
    await seedHistory(dbs.history, {
      rows,
      caller: run.caller,
      days: 90,
      endDaysAgo: 0,
      onProgress: (done) => process.stdout.write(`\rbench: history: ${done} finished captions seeded`),
    })
    await dbs.history.query('VACUUM ANALYZE')
    const seedSeconds = (Date.now() - started) / 1000
    console.log(` in ${seedSeconds.toFixed(0)} s (VACUUM ANALYZE included)`)

    await seedHistory(dbs.young, { rows: YOUNG_HISTORY_ROWS, caller: run.caller, days: 1, endDaysAgo: 0 })
    await dbs.young.query('VACUUM ANALYZE')

    // The same recent work in both, before their services start.
    const webhookRows = {} as Record<Age, () => SeededCaption>
    for (const age of AGES) {
      const seeded = await seedPendingCaptions(dbs[age], {
        caller: run.caller,
        taskIdPrefix: `bench-${age}-task-`,
        count: run.webhookRows,
        webhookSecret: run.webhookSecret,
      })
      webhookRows[age] = cycle(seeded, () =>
        notes.push(`history: webhook (${age}) ran out of seeded captions; raise BENCH_WEBHOOK_ROWS`),
      )
      await dbs[age].query('VACUUM ANALYZE')
    }
    const services = {} as Record<Age, Child>
    for (const age of AGES) {
      services[age] = await run.startService(`service-${age}`, urls[age])
      open.push(() => run.stopService(services[age]))
    }

    const toRead = await captionsToRead(dbs, run.caller)
    console.log(
      `bench: history: reads go round ${toRead.young.length} finished captions of the caller on each database` +
        ` (young: its day of them; history: a sample of its ${rows} rows)`,
    )
    const paths = {} as HistoryFigures['paths']
    const settings = { ...run.load, rounds: ROUNDS }
    for (const name of ['webhook', 'creation', 'read', 'list', 'usage', 'metrics'] as const) {
      const requests = {} as Record<Age, autocannon.Request[]>
      for (const age of AGES) requests[age] = pathRequests(name, run, toRead[age], webhookRows[age])
      const figures = await measurePath(services, requests, settings, AGES)
      paths[name] = { ...figures, ratio: historyRatio(figures) }
      console.log(describeHistoryPath(name, paths[name]))
      const missed = paths[name].ratio.missed
      if (missed.length)
        notes.push(`history: ${name} not within 15% of the young database (${missed.join(', ')})`)
    }

    // Worker round, /metrics and shutdown statements, run on both databases in turn (Y, H, H, Y, Y, H).
    const plans: Record<Age, BackgroundPlan[][]> = { young: [], history: [] }
    for (let i = 0; i < PLAN_RUNS * 2; i++) {
      const age = AGES[[0, 1, 1, 0][i % 4] as 0 | 1]
      plans[age].push(await explainBackground(dbs[age], urls[age]))
    }
    const background = {} as HistoryFigures['background']
    for (const part of ['round', '/metrics'] as const) {
      const of = (plan: BackgroundPlan) =>
        part === 'round' ? !['start', '/metrics', 'shutdown'].includes(plan.source) : plan.source === part
      const young = median(plans.young.map((runPlans) => sumMs(runPlans.filter(of))))
      const history = median(plans.history.map((runPlans) => sumMs(runPlans.filter(of))))
      const ratio = history / young
      background[part] = { young, history, ratio, within: ratio <= WITHIN }
      if (ratio > WITHIN) {
        notes.push(
          `history: a ${part === 'round' ? 'worker round' : '/metrics scrape'} in the database at ${ratio.toFixed(2)}x of the young database`,
        )
      }
    }

    console.log(
      `\nbench: background statements, database time (EXPLAIN ANALYZE, median of ${PLAN_RUNS} runs each), young -> history:`,
    )
    const last = plans.history.at(-1) ?? []
    for (const [index, plan] of last.entries()) {
      const ms = (age: Age) =>
        median(plans[age].map((runPlans) => runPlans[index]?.executionMs ?? Number.NaN))
      console.log(
        `  ${plan.source.padEnd(22)} ${ms('young').toFixed(2).padStart(8)} -> ${ms('history').toFixed(2).padStart(8)} ms  ` +
          `${plan.text.trim().replace(/\s+/g, ' ').slice(0, 70)}`,
      )
    }
    for (const part of ['round', '/metrics'] as const) {
      const b = background[part]
      console.log(
        `  ${(part === 'round' ? 'worker round (every claim)' : '/metrics scrape').padEnd(26)} ` +
          `${b.young.toFixed(2)} -> ${b.history.toFixed(2)} ms: ${b.ratio.toFixed(2)}x ${b.within ? 'within 15%' : 'missed'}`,
      )
    }

    console.log('\nbench: background statements on the history (custom plan; generic plan when it differs):')
    for (const plan of last) {
      console.log(`-- ${plan.source}: ${plan.executionMs.toFixed(2)} ms\n${plan.text.trim()}\n${plan.custom}`)
      if (plan.generic !== plan.custom) console.log(`-- generic:\n${plan.generic}`)
    }
    // On the young database a sequential scan of its few captions is the planner's right choice.
    let failed = false
    for (const source of new Set(
      plans.history
        .flat()
        .filter(scansCaptions)
        .map((plan) => plan.source),
    )) {
      failed = true
      notes.push(`history: a sequential scan of captions in a statement of ${source}`)
    }
    const figures: HistoryFigures = { rows, seedSeconds, paths, background }
    console.log(`\n${formatHistory(figures)}`)
    return { failed, notes, figures }
  } finally {
    for (const close of open.reverse()) await close().catch(() => {})
  }
}

function pathRequests(
  name: HistoryPath,
  run: HistoryRun,
  captionIds: string[],
  nextWebhookRow: () => SeededCaption,
): autocannon.Request[] {
  const auth = { authorization: run.authorization }
  switch (name) {
    // Each request completes a pending caption of its database, with that caption's own secret.
    case 'webhook':
      return [
        {
          method: 'POST',
          path: '/webhooks/goapi',
          setupRequest: (req) => {
            const caption = nextWebhookRow()
            req.headers = { 'content-type': 'application/json', 'x-webhook-secret': caption.secret }
            req.body = run.webhookBody(caption.taskId, caption.secret)
            return req
          },
        },
      ]
    case 'creation':
      return [
        {
          method: 'POST',
          path: '/captions',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({
            imageUrl: 'https://images.example.com/bench/cat.png',
            promptStyle: 'Straightforward',
          }),
        },
      ]
    // Finished captions of the same kind and number on each database (captionsToRead).
    case 'read': {
      const nextId = cycle(captionIds)
      return [
        {
          method: 'GET',
          setupRequest: (req) => {
            req.path = `/captions/${nextId()}`
            req.headers = auth
            return req
          },
        },
      ]
    }
    case 'list':
      return [{ method: 'GET', path: '/captions?limit=50', headers: auth }]
    case 'usage':
      return [{ method: 'GET', path: '/usage', headers: auth }]
    case 'metrics':
      return [{ method: 'GET', path: '/metrics' }]
  }
}

/**
 * The caller's finished captions each database's reads go round: as many on each, of the same kind. On
 * the young database every one of its day of history; on the history, as many drawn at random from
 * all of its 90 days (a sample of pages first, so as not to read the whole table). With a history too
 * short for that (a run of a few rows, to see the bench's own spread) both read as many as it has.
 */
async function captionsToRead(dbs: Record<Age, pg.Pool>, caller: string): Promise<Record<Age, string[]>> {
  const ofHistory = `caller = $1 AND goapi_task_id LIKE '${HISTORY_TASK_PREFIX}%'`
  const young = await dbs.young.query<{ id: string }>(`SELECT id FROM captions WHERE ${ofHistory}`, [caller])
  const callerRows = await dbs.history.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM captions WHERE ${ofHistory}`,
    [caller],
  )
  const historyRows = callerRows.rows[0]?.n ?? 0
  const count = Math.min(young.rows.length, historyRows)
  const percent = Math.min(100, (100 * 2 * count) / Math.max(1, historyRows))
  const history = await dbs.history.query<{ id: string }>(
    `SELECT id FROM captions TABLESAMPLE SYSTEM (${percent}) WHERE ${ofHistory} ORDER BY random() LIMIT $2`,
    [caller, count],
  )
  const ids = (rows: { id: string }[]) => rows.map((row) => row.id)
  if (!history.rows.length) throw new Error('history: no finished captions of the caller to read')
  return { young: ids(young.rows).slice(0, history.rows.length), history: ids(history.rows) }
}

function historyRatio(figures: Record<Age, LoadFigures>): HistoryRatio {
  const { young, history } = figures
  const ratio = {
    requestsPerSecond: history.requestsPerSecond / young.requestsPerSecond,
    p99: history.p99Ms / young.p99Ms,
    cpuPerRequest: history.cpuMsPerRequest / young.cpuMsPerRequest,
    roundRequestsPerSecond: history.roundRequestsPerSecond.map(
      (rate, round) => rate / (young.roundRequestsPerSecond[round] ?? Number.NaN),
    ),
  }
  const missed: string[] = []
  if (ratio.requestsPerSecond * WITHIN < 1) missed.push('req/s')
  if (ratio.p99 > WITHIN) missed.push('p99')
  if (ratio.cpuPerRequest > WITHIN) missed.push('CPU per request')
  return { ...ratio, missed }
}

const describeHistoryPath = (name: HistoryPath, f: HistoryFigures['paths'][HistoryPath]) =>
  AGES.map(
    (age) =>
      `bench: history: ${name.padEnd(8)} ${age.padEnd(7)} ${f[age].requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
      `p50 ${f[age].p50Ms.toFixed(1)} ms  p99 ${f[age].p99Ms.toFixed(1)} ms  errors ${f[age].errors}  ` +
      `CPU ${f[age].cpuMsPerRequest.toFixed(2)} ms/req`,
  )
    .concat(
      `bench: history: ${name.padEnd(8)} req/s history/young round by round: ` +
        f.ratio.roundRequestsPerSecond.map((r) => r.toFixed(2)).join(' '),
    )
    .join('\n')

/** The young database against the history, each path's figures and ratios (history / young). */
export function formatHistory(figures: HistoryFigures): string {
  const rows: string[][] = [
    ['path', 'database', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/req', 'by round', ''],
  ]
  const times = (value: number) => `${value.toFixed(2)}x`
  for (const [name, f] of Object.entries(figures.paths) as [
    HistoryPath,
    HistoryFigures['paths'][HistoryPath],
  ][]) {
    for (const age of AGES) {
      const g = f[age]
      rows.push([name, age, ...figureCells(g)])
    }
    const r = f.ratio
    const verdict = r.missed.length ? `missed (${r.missed.join(', ')})` : 'within 15%'
    const rounds = r.roundRequestsPerSecond
    rows.push([
      name,
      'ratio',
      times(r.requestsPerSecond),
      '',
      times(r.p99),
      '',
      times(r.cpuPerRequest),
      `${Math.min(...rounds).toFixed(2)}-${Math.max(...rounds).toFixed(2)}`,
      verdict,
    ])
  }
  for (const part of ['round', '/metrics'] as const) {
    const b = figures.background[part]
    const label = part === 'round' ? 'worker round' : '/metrics statements'
    rows.push([
      label,
      'ms',
      `${b.young.toFixed(2)} -> ${b.history.toFixed(2)}`,
      '',
      '',
      '',
      '',
      times(b.ratio),
      b.within ? 'within 15%' : 'missed',
    ])
  }
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column < 2 || column === 8 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd()
  return [
    `history of ${figures.rows} finished captions (seeded in ${figures.seedSeconds.toFixed(0)} s): ` +
      'young database vs history, measured in alternating rounds; ratio = history / young ' +
      '(by round: the lowest and highest of the req/s ratios of the n-th rounds of each)',
    ...rows.map(line),
  ].join('\n')
}

const sumMs = (plans: BackgroundPlan[]) => plans.reduce((sum, plan) => sum + plan.executionMs, 0)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
