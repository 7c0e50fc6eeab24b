/**
 * History mode (`npm run bench -- --history 1000000`, or BENCH_HISTORY_ROWS): the service's paths, a
 * worker round and a /metrics scrape measured on the bench's young database, then again once a long
 * history of finished work is in (bench/history-seed.ts), in one run; each background statement's plan
 * printed, and the run fails on a sequential scan of captions in any of them.
 */
import type autocannon from 'autocannon'
import type pg from 'pg'
import { type BackgroundPlan, explainBackground, scansCaptions } from './history-plans.js'
import { seedHistory } from './history-seed.js'
import { cycle } from './load.js'
import { describeFigures, loadOne, type SingleFigures } from './single-load.js'

export const historyRows = (argv: readonly string[]): number => {
  const flag = argv.indexOf('--history')
  const value = flag >= 0 ? argv[flag + 1] : process.env.BENCH_HISTORY_ROWS
  return Number(value || 0)
}

export interface HistoryRun {
  db: pg.Pool
  databaseUrl: string
  serviceUrl: string
  caller: string
  authorization: string
  connections: number
  seconds: number
  /** Fresh pending captions for a webhook load, and the request that completes the next one. */
  webhookRequests: () => Promise<autocannon.Request[]>
}

type HistoryPath = 'webhook' | 'creation' | 'read' | 'list' | 'usage' | 'metrics'
type Phase = { paths: Record<HistoryPath, SingleFigures>; plans: BackgroundPlan[]; roundMs: number }

/** Within 15% of the young database's figures (req/s; a round's and a scrape's database time). */
const WITHIN = 1.15

export async function runHistory(
  rows: number,
  run: HistoryRun,
): Promise<{ failed: boolean; notes: string[] }> {
  const notes: string[] = []
  const empty = await measurePhase(run, await recentIds(run, 'bench-%'))
  const started = Date.now()
  await seedHistory(run.db, {
    rows,
    caller: run.caller,
    days: 90,
    endDaysAgo: 0,
    onProgress: (done) => process.stdout.write(`\rbench: history: ${done} finished captions seeded`),
  })
  await run.db.query('VACUUM ANALYZE')
  console.log(` in ${((Date.now() - started) / 1000).toFixed(0)} s (VACUUM ANALYZE included)`)
  const seeded = await measurePhase(run, await recentIds(run, 'history-task-%'))

  console.log(
    `\nbench: history of ${rows} finished captions: service figures, young database -> with history`,
  )
  let failed = false
  for (const name of Object.keys(empty.paths) as HistoryPath[]) {
    const before = empty.paths[name]
    const after = seeded.paths[name]
    const ratio = after.requestsPerSecond / before.requestsPerSecond
    console.log(
      `  ${name.padEnd(8)} ${describeFigures(before)}\n  ${''.padEnd(8)} ${describeFigures(after)}  ` +
        `(x${ratio.toFixed(2)} req/s, p99 x${(after.p99Ms / before.p99Ms).toFixed(2)})`,
    )
    if (ratio * WITHIN < 1)
      notes.push(`history: ${name} at ${ratio.toFixed(2)}x of the young database's req/s`)
  }
  console.log(
    `  worker round + /metrics + shutdown statements: ${empty.roundMs.toFixed(1)} ms -> ` +
      `${seeded.roundMs.toFixed(1)} ms in the database`,
  )
  console.log('\nbench: background statements on the history (custom plan; generic plan when it differs):')
  for (const plan of seeded.plans) {
    console.log(`-- ${plan.source}: ${plan.executionMs.toFixed(2)} ms\n${plan.text.trim()}\n${plan.custom}`)
    if (plan.generic !== plan.custom) console.log(`-- generic:\n${plan.generic}`)
    if (scansCaptions(plan)) {
      failed = true
      notes.push(`history: a sequential scan of captions in a statement of ${plan.source}`)
    }
  }
  return { failed, notes }
}

/** Ids of the caller's captions to read, among those whose task id starts so (old ones in the history). */
async function recentIds(run: HistoryRun, taskIds: string): Promise<string[]> {
  const { rows } = await run.db.query<{ id: string }>(
    `SELECT id FROM captions TABLESAMPLE SYSTEM (5) WHERE caller = $1 AND goapi_task_id LIKE $2 LIMIT 20000`,
    [run.caller, taskIds],
  )
  return rows.map((row) => row.id)
}

async function measurePhase(run: HistoryRun, readIds: string[]): Promise<Phase> {
  const auth = { authorization: run.authorization }
  const nextId = cycle(readIds)
  const requests: Record<Exclude<HistoryPath, 'webhook'>, autocannon.Request[]> = {
    creation: [
      {
        method: 'POST',
        path: '/captions',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({
          imageUrl: 'https://images.example.com/bench/cat.png',
          promptStyle: 'Straightforward',
        }),
      },
    ],
    read: [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = `/captions/${nextId()}`
          req.headers = auth
          return req
        },
      },
    ],
    list: [{ method: 'GET', path: '/captions?limit=50', headers: auth }],
    usage: [{ method: 'GET', path: '/usage', headers: auth }],
    metrics: [{ method: 'GET', path: '/metrics' }],
  }
  const settings = { connections: run.connections, seconds: run.seconds }
  const paths = {} as Record<HistoryPath, SingleFigures>
  paths.webhook = await loadOne(run.serviceUrl, await run.webhookRequests(), settings)
  for (const name of Object.keys(requests) as (keyof typeof requests)[]) {
    await loadOne(run.serviceUrl, requests[name], { ...settings, seconds: 1 })
    paths[name] = await loadOne(run.serviceUrl, requests[name], settings)
  }
  const plans = await explainBackground(run.db, run.databaseUrl)
  // What a round costs: the statements made once per start (the slot count) are printed, not summed.
  const roundMs = plans
    .filter((plan) => plan.source !== 'start')
    .reduce((sum, plan) => sum + plan.executionMs, 0)
  return { paths, plans, roundMs }
}
