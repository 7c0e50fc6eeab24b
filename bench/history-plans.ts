import type pg from 'pg'
import { BATCH_CALLBACK_KIND } from '../src/batches/batch-callback-kind.js'
import { countDueCallbacks } from '../src/callbacks/due-callbacks.repository.js'
import { CAPTION_CALLBACK_KIND } from '../src/captions/caption-callback-kind.js'
import { readCaptionGauges } from '../src/captions/gauges.repository.js'
import { loadConfig } from '../src/config.js'
import type { Sql } from '../src/db/pool.js'
import type { GoapiClient } from '../src/goapi/client.js'
import { createServiceDeps } from '../src/service-deps.js'
import type { JobDeps } from '../src/work/job.js'
import { JOBS } from '../src/work/jobs/index.js'
import { releaseAllLeases } from '../src/work/work.repository.js'

/** One statement the service sends in the background, with its plans on the database as it is. */
export interface BackgroundPlan {
  /** The job (or /metrics, shutdown) that sends it. */
  source: string
  text: string
  /** PostgreSQL's plan for these values (custom), and the one it may switch to after five runs (generic). */
  custom: string
  generic: string
  executionMs: number
}

const SEQ_SCAN_OF_CAPTIONS = /Seq Scan on captions\b/

export const scansCaptions = (plan: BackgroundPlan) =>
  SEQ_SCAN_OF_CAPTIONS.test(plan.custom) || SEQ_SCAN_OF_CAPTIONS.test(plan.generic)

/**
 * Every statement of a worker round (each job's claim, the retention sweep's included), of a /metrics
 * scrape and of a shutdown, sent through a stand-in for the pool that runs each one under EXPLAIN ANALYZE
 * in a transaction rolled back (custom plan, then with plan_cache_mode = force_generic_plan), and answers
 * nothing: what a round costs on an idle service, whatever the history.
 */
export async function explainBackground(db: pg.Pool, databaseUrl: string): Promise<BackgroundPlan[]> {
  const plans: BackgroundPlan[] = []
  let source = ''
  const explain = async (text: string, values: unknown[] | undefined) => {
    const client = await db.connect()
    const run = async (generic: boolean) => {
      await client.query('BEGIN')
      try {
        if (generic) await client.query('SET LOCAL plan_cache_mode = force_generic_plan')
        const { rows } = await client.query<{ 'QUERY PLAN': string }>({
          text: `EXPLAIN (ANALYZE, BUFFERS) ${text}`,
          ...(values ? { values } : {}),
        })
        return rows.map((row) => row['QUERY PLAN']).join('\n')
      } finally {
        await client.query('ROLLBACK')
      }
    }
    try {
      const custom = await run(false)
      const generic = values?.length ? await run(true) : custom
      const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(custom)?.[1] ?? Number.NaN)
      plans.push({ source, text, custom, generic, executionMs })
    } finally {
      client.release()
    }
  }
  const query = async (config: string | pg.QueryConfig, values?: unknown[]) => {
    const text = typeof config === 'string' ? config : config.text
    const params = typeof config === 'string' ? values : config.values
    if (/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text)) return { rows: [], rowCount: 0 }
    // The sweep's lock: granted, so that the sweep's statements are sent (and explained) too.
    if (/pg_(try_)?advisory_(un)?lock/.test(text)) return { rows: [{ locked: true }], rowCount: 1 }
    await explain(text, params)
    return { rows: [], rowCount: 0 }
  }
  const client = { query, release() {} }
  const sql = { query, connect: async () => client } as unknown as Sql
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    GOAPI_API_KEY: 'bench-goapi-key',
    GOAPI_BASE_URL: 'http://127.0.0.1:9',
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    API_TOKENS: 'bench:bench-caller-token-0123456789',
    // A cap: the slot job's statements are sent too.
    GOAPI_MAX_CONCURRENCY: '100000',
  })
  const noLog = { info() {}, warn() {}, error() {}, debug() {}, child: () => noLog }
  const deps = createServiceDeps(config, {
    sql,
    goapi: {} as GoapiClient,
    log: noLog as never,
    workerId: 'bench-explain',
  })
  const jobDeps = {
    ...deps,
    callbackDispatcher: {} as never,
    signal: new AbortController().signal,
  } as JobDeps
  const now = new Date()
  const claim = { owner: 'bench-explain', now, leaseUntil: new Date(now.getTime() + 60_000), limit: 20 }
  // The first claim of the slot job sets this pool's slot count (once per start: the cap's rows, and a
  // row for each caption already holding a slot); the round's statements are those of the claims after.
  source = 'start'
  for (const job of JOBS) await job.claim(jobDeps, claim)
  for (const job of JOBS) {
    source = job.name
    await job.claim(jobDeps, claim)
  }
  source = '/metrics'
  await readCaptionGauges(sql)
  await countDueCallbacks(sql, [CAPTION_CALLBACK_KIND, BATCH_CALLBACK_KIND])
  source = 'shutdown'
  await releaseAllLeases(sql, 'bench-explain')
  return plans
}
