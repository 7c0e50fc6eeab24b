/**
 * Load benchmark: the service (`node dist/server.js`, real mode) against a plain Fastify + pg baseline
 * (bench/baseline-server.ts), measured side by side in one run on one PostgreSQL, in front of the GoAPI
 * simulator answering at once, with a twin of the service measured alike as the run's control. Loopback
 * only, bounded in time; prints a table and writes bench/results/latest.json. Only ratios within one run mean anything: the load generator, both servers,
 * the simulator and PostgreSQL share the machine's cores. bench/README.md says what each path measures.
 *
 *   npm run bench        (BENCH_CONNECTIONS=50 BENCH_WARMUP_SECONDS=2 BENCH_DURATION_SECONDS=10
 *                         BENCH_WEBHOOK_ROWS=30000 BENCH_E2E_CAPTIONS=200 BENCH_TIME_LIMIT_SECONDS=420)
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type autocannon from 'autocannon'
import pg from 'pg'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { freePort } from '../src/lib/net.js'
import { measureBatchCreation } from './batches.js'
import { completedWebhookBody, type SeededCaption, seedPendingCaptions } from './captions.js'
import { measureCallbackDelays, startCallbackReceiver } from './end-to-end.js'
import { formatExportRss, measureExportRss, seedExportBatches } from './export-rss.js'
import { historyRows, runHistory } from './history.js'
import { cycle, measurePath, SERVERS, type ServerName, stopLoad } from './load.js'
import {
  type Child,
  compileBaseline,
  PROJECT_ROOT,
  rssMiB,
  spawnNode,
  stopChild,
  waitReady,
} from './processes.js'
import { describeControl, describePath, formatTable, type PathName, type Results, ratio } from './report.js'

import { startOtlpSink, TRACING, tracingEnv } from './tracing.js'

const setting = (name: string, fallback: number) => Number(process.env[name] || fallback)
const LOAD = {
  connections: setting('BENCH_CONNECTIONS', 50),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 2),
  durationSeconds: setting('BENCH_DURATION_SECONDS', 10),
}
// Each seeded caption holds a GoAPI task slot while pending: both servers' together stay well under CAP.
const WEBHOOK_ROWS = setting('BENCH_WEBHOOK_ROWS', 30_000)
const E2E_CAPTIONS = setting('BENCH_E2E_CAPTIONS', 200)
const HISTORY_ROWS = historyRows(process.argv)
const TIME_LIMIT_SECONDS = setting('BENCH_TIME_LIMIT_SECONDS', HISTORY_ROWS > 0 ? 1800 : 420)
/** Reads go round the first this many captions the webhook path completed. */
const READ_ROWS = 20_000
const BATCH_ITEMS = 1_000
const BATCH_RUNS = setting('BENCH_BATCH_RUNS', 5)
const EXPORT_BATCHES = setting('BENCH_EXPORT_BATCHES', 10)
const IDLE_SETTLE_MS = 2_000
const SHARED_BUFFERS = process.env.BENCH_SHARED_BUFFERS

const RESULTS_FILE = path.join(PROJECT_ROOT, `bench/results/latest${TRACING ? '-tracing' : ''}.json`)
const GOAPI_API_KEY = 'bench-goapi-key'
const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789'
const CALLBACK_SIGNING_SECRET = `whsec_${Buffer.from('bench-callback-signing-key-0123456789').toString('base64')}`
const CALLER = 'bench'
const CALLER_TOKEN = 'bench-caller-token-0123456789'
/** GOAPI_MAX_CONCURRENCY of the service: on, as every real account has one, and never reached. */
const CAP = 100_000
const AUTHORIZATION = `Bearer ${CALLER_TOKEN}`
/** The service's pool size (src/db/pool.ts); the baseline's pool has the same. */
const POOL_SIZE = 10
const SERVICE_APPLICATION_NAME = 'caption-service-bench'
const quiet = { info() {}, debug() {}, warn() {} }

// Everything started is stopped in reverse order, on success, error, Ctrl-C or the time limit.
const cleanups: (() => Promise<void>)[] = []
const children: Child[] = []
/** Children stopped on purpose before the end. */
const retired = new Set<Child>()
let cleaning: Promise<void> | undefined

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    stopLoad()
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error('bench: a cleanup step failed', error))
    }
  })()
  return cleaning
}

function startChild(name: string, args: string[], url: string, env: Record<string, string>): Child {
  const child = spawnNode(name, args, url, env, (exited, reason) => {
    if (cleaning || retired.has(exited)) return
    console.error(`bench: ${exited.name} exited early (${reason}):\n${exited.output.join('\n')}`)
    void cleanUp().then(() => process.exit(2))
  })
  children.push(child)
  cleanups.push(() => stopChild(child))
  return child
}

async function main(): Promise<void> {
  const started = Date.now()
  const notes: string[] = []
  const root = await mkdtemp(path.join(tmpdir(), 'caption-bench-'))
  cleanups.push(() => rm(root, { recursive: true, force: true, maxRetries: 3 }))
  // Under root PostgreSQL runs as the postgres user, which must be able to enter this directory.
  await chmod(root, 0o755)
  const database = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pg'),
    log: quiet,
    persistent: false,
    // PostgreSQL's default (128MB) unless set: a production server is given more.
    ...(SHARED_BUFFERS ? { settings: { shared_buffers: SHARED_BUFFERS } } : {}),
  })
  const postmasterPid = Number(
    (await readFile(path.join(database.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
  )
  cleanups.push(async () => {
    await database.stop()
    // After a Ctrl-C reached it too, PostgreSQL may still be writing its last files when stop() returns.
    await waitForExit(postmasterPid, 10_000)
  })
  await applyMigrations(database.url)
  const db = new pg.Pool({ connectionString: database.url, max: 4 })
  // The database stops before this pool at the end: an idle client's lost connection is expected then.
  db.on('error', () => {})
  cleanups.push(() => db.end())
  const maxConnections = Number((await db.query('SHOW max_connections')).rows[0].max_connections)
  const sharedBuffers: string = (await db.query('SHOW shared_buffers')).rows[0].shared_buffers
  console.log(`bench: PostgreSQL shared_buffers ${sharedBuffers} (BENCH_SHARED_BUFFERS)`)
  if (maxConnections < 2 * POOL_SIZE + 10) {
    throw new Error(`PostgreSQL allows ${maxConnections} connections; the bench needs ${2 * POOL_SIZE + 10}`)
  }

  const simulatorPort = await freePort()
  const goapiUrl = `http://127.0.0.1:${simulatorPort}`
  const simulator = startChild('simulator', ['dist/goapi-simulator/cli.js'], goapiUrl, {
    GOAPI_SIM_PORT: String(simulatorPort),
    GOAPI_SIM_API_KEY: GOAPI_API_KEY,
    GOAPI_SIM_LOG_LEVEL: 'warn',
    GOAPI_SIM_CREATE_LATENCY_MS: '0',
    // The bench sends every webhook itself: tasks stay pending at the simulator and never call back.
    GOAPI_SIM_DROP_WEBHOOK_RATE: '1',
    GOAPI_SIM_STEP_DELAY_MS: '3600000',
  })
  await waitReady(simulator, '/_sim/faults', { 'x-api-key': GOAPI_API_KEY })
  const receiver = await startCallbackReceiver()
  cleanups.push(() => receiver.close())

  // Seeded before the servers start, so their start and idle figures see a quiet database.
  const seed = (taskIdPrefix: string) =>
    seedPendingCaptions(db, {
      caller: CALLER,
      taskIdPrefix,
      count: WEBHOOK_ROWS,
      webhookSecret: WEBHOOK_SECRET,
    })
  const webhookRows: Record<ServerName | 'twin', SeededCaption[]> = {
    baseline: await seed('bench-baseline-task-'),
    service: await seed('bench-service-task-'),
    twin: await seed('bench-twin-task-'),
  }
  await db.query('VACUUM ANALYZE captions')

  const serviceUrl = `http://127.0.0.1:${await freePort()}`
  // BENCH_TRACING=1: the service traces every request to a collector that accepts everything.
  const otlpSink = TRACING ? await startOtlpSink() : undefined
  if (otlpSink) cleanups.push(() => otlpSink.close())
  const serviceDatabaseUrl = new URL(database.url)
  // Names the service's connections, to check its pool size against the baseline's.
  serviceDatabaseUrl.searchParams.set('application_name', SERVICE_APPLICATION_NAME)
  const serviceEnv = {
    DATABASE_URL: serviceDatabaseUrl.toString(),
    GOAPI_API_KEY,
    GOAPI_BASE_URL: goapiUrl,
    PUBLIC_BASE_URL: serviceUrl,
    WEBHOOK_SECRET,
    API_TOKENS: `${CALLER}:${CALLER_TOKEN}`,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    CALLBACK_SIGNING_SECRET,
    RATE_LIMIT_PER_MINUTE: '100000000',
    // The read scenarios send thousands of GETs a second as one caller.
    RATE_LIMIT_READS_PER_MINUTE: '100000000',
    // Keeps background polling of the bench's pending captions out of the measured minutes.
    GOAPI_POLL_AFTER_SECONDS: '3600',
    // A cap on, as every account has, so that a creation takes a task slot; never reached, so that every
    // creation is sent to GoAPI at once, as the baseline's is (the bench's tasks never finish).
    GOAPI_MAX_CONCURRENCY: String(CAP),
    HOST: '127.0.0.1',
    PORT: new URL(serviceUrl).port,
    LOG_LEVEL: 'warn',
    ...(otlpSink ? tracingEnv(otlpSink.url) : {}),
  }
  const service = startChild('service', ['dist/server.js'], serviceUrl, serviceEnv)
  const serviceReadyMs = await waitReady(service, '/readyz')
  await sleep(IDLE_SETTLE_MS)
  const serviceIdleRss = rssMiB(service.process.pid)
  // Further service processes (the twin, cap off, the history's), each with the service's env but for
  // `env`, on a port of its own; retired when stopped before the end.
  const startServiceLike = async (name: string, env: Record<string, string>): Promise<Child> => {
    const url = `http://127.0.0.1:${await freePort()}`
    const child = startChild(name, ['dist/server.js'], url, {
      ...serviceEnv,
      ...env,
      PUBLIC_BASE_URL: url,
      PORT: new URL(url).port,
    })
    await waitReady(child, '/readyz')
    await sleep(IDLE_SETTLE_MS)
    return child
  }
  const retire = async (child: Child): Promise<void> => {
    retired.add(child)
    await stopChild(child)
  }
  // The control: a twin of the service (same settings and database, its connections named apart),
  // measured in the same rounds as the service and the baseline on every path. Two identical servers
  // should land at 1.00x of each other; how far from it they land is the run's own noise.
  const twinDatabaseUrl = new URL(serviceDatabaseUrl)
  twinDatabaseUrl.searchParams.set('application_name', `${SERVICE_APPLICATION_NAME}-twin`)
  const twin = await startServiceLike('service-twin', { DATABASE_URL: twinDatabaseUrl.toString() })

  const baselineFile = await compileBaseline()
  const baselineUrl = `http://127.0.0.1:${await freePort()}`
  const baseline = startChild('baseline', [baselineFile], baselineUrl, {
    DATABASE_URL: database.url,
    GOAPI_API_KEY,
    GOAPI_BASE_URL: goapiUrl,
    PUBLIC_BASE_URL: baselineUrl,
    WEBHOOK_SECRET,
    API_TOKENS: `${CALLER}:${CALLER_TOKEN}`,
    PORT: new URL(baselineUrl).port,
  })
  const baselineReadyMs = await waitReady(baseline, '/readyz')
  await sleep(IDLE_SETTLE_MS)
  const baselineIdleRss = rssMiB(baseline.process.pid)

  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: loadavg(),
    },
    settings: { ...LOAD, webhookRows: WEBHOOK_ROWS, e2eCaptions: E2E_CAPTIONS },
    start: {
      service: { readyMs: serviceReadyMs, idleRssMiB: serviceIdleRss },
      baseline: { readyMs: baselineReadyMs, idleRssMiB: baselineIdleRss },
    },
    paths: {},
    notes,
  }
  console.log(
    `bench: ready in ${serviceReadyMs.toFixed(0)} ms (baseline ${baselineReadyMs.toFixed(0)} ms), ` +
      `idle RSS ${serviceIdleRss.toFixed(1)} MiB (baseline ${baselineIdleRss.toFixed(1)} MiB); ` +
      `${LOAD.connections} connections, ${LOAD.warmupSeconds} s warm-up + ${LOAD.durationSeconds} s per path and server`,
  )

  const webhookBody = await completedWebhookBody()
  const paths: Record<PathName, (server: ServerName | 'twin') => autocannon.Request[]> = {
    // Each request completes a caption of its own, with that caption's own secret.
    webhook: (server) => {
      const next = cycle(webhookRows[server], () =>
        notes.push(`webhook (${server}): ran out of seeded captions; raise BENCH_WEBHOOK_ROWS`),
      )
      return [
        {
          method: 'POST',
          path: '/webhooks/goapi',
          setupRequest: (req) => {
            const caption = next()
            req.headers = { 'content-type': 'application/json', 'x-webhook-secret': caption.secret }
            req.body = webhookBody(caption.taskId, caption.secret)
            return req
          },
        },
      ]
    },
    creation: () => [
      {
        method: 'POST',
        path: '/captions',
        headers: { 'content-type': 'application/json', authorization: AUTHORIZATION },
        body: JSON.stringify({
          imageUrl: 'https://images.example.com/bench/cat.png',
          promptStyle: 'Straightforward',
          metadata: { source: 'bench' },
        }),
      },
    ],
    // The caller's own captions, which the webhook path has just completed.
    read: (server) => {
      const next = cycle(webhookRows[server].slice(0, READ_ROWS))
      return [
        {
          method: 'GET',
          setupRequest: (req) => {
            req.path = `/captions/${next().id}`
            req.headers = { authorization: AUTHORIZATION }
            return req
          },
        },
      ]
    },
  }

  const servers = { baseline, service, twin }
  results.control = {}
  for (const name of ['webhook', 'creation', 'read'] as const) {
    const figures = await measurePath(
      servers,
      { baseline: paths[name]('baseline'), service: paths[name]('service'), twin: paths[name]('twin') },
      LOAD,
      ['baseline', 'service', 'twin'],
    )
    for (const server of SERVERS) console.log(describePath(name, server, figures[server]))
    const { baseline: baselineFigures, service: serviceFigures, twin: twinFigures } = figures
    results.paths[name] = {
      baseline: baselineFigures,
      service: serviceFigures,
      ratio: ratio({ baseline: baselineFigures, service: serviceFigures }),
    }
    const control = ratio({ baseline: serviceFigures, service: twinFigures })
    results.control[name] = control
    console.log(describeControl(name, control))
  }
  await retire(twin)
  // The same creations with the cap off (GOAPI_MAX_CONCURRENCY=0), on a second service process measured
  // in rounds with the first: what the cap costs a creation.
  // Its own database on the same server: a replica without a cap clears the slots of its database.
  const capOffDatabaseUrl = new URL(serviceDatabaseUrl)
  capOffDatabaseUrl.pathname = '/bench_cap_off'
  await db.query('CREATE DATABASE bench_cap_off')
  await applyMigrations(capOffDatabaseUrl.toString())
  const capOff = await startServiceLike('service-cap-off', {
    DATABASE_URL: capOffDatabaseUrl.toString(),
    GOAPI_MAX_CONCURRENCY: '0',
  })
  const capFigures = await measurePath(
    { baseline: capOff, service },
    { baseline: paths.creation('service'), service: paths.creation('service') },
    LOAD,
  )
  await retire(capOff)
  results.cap = {
    max: CAP,
    off: capFigures.baseline,
    on: capFigures.service,
    heldAfter: await slotsHeld(db),
  }
  console.log(describePath('creation', 'service', capFigures.service).replace('service ', 'cap on  '))
  console.log(describePath('creation', 'service', capFigures.baseline).replace('service ', 'cap off '))
  if (results.cap.heldAfter >= CAP) notes.push(`the cap of ${CAP} GoAPI tasks was reached: raise CAP`)

  const connections = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1',
    [SERVICE_APPLICATION_NAME],
  )
  const serviceConnections = connections.rows[0]?.count ?? 0
  if (serviceConnections !== POOL_SIZE) {
    notes.push(
      `the service held ${serviceConnections} database connections under load, the baseline ${POOL_SIZE}: ` +
        'set POOL_SIZE in bench/run.ts and bench/baseline-server.ts to the service pool size',
    )
  }

  if (HISTORY_ROWS > 0) {
    // Two more service processes, each on its own database of the same server and with the same env:
    // one young, one with the history; measured in alternating rounds (bench/history.ts).
    const history = await runHistory(HISTORY_ROWS, {
      db,
      databaseUrl: serviceDatabaseUrl.toString(),
      caller: CALLER,
      authorization: AUTHORIZATION,
      webhookSecret: WEBHOOK_SECRET,
      webhookBody,
      webhookRows: WEBHOOK_ROWS,
      load: LOAD,
      startService: (name, databaseUrl) => startServiceLike(name, { DATABASE_URL: databaseUrl }),
      stopService: retire,
    })
    results.history = history.figures
    notes.push(...history.notes)
    if (history.failed) process.exitCode = 1
  }

  // The load phases left tens of thousands of dead rows: cleared first, the end-to-end figure measures
  // the service rather than the database's catching up on them.
  await db.query('VACUUM ANALYZE captions')
  const e2e = await measureCallbackDelays({
    serviceUrl,
    receiver,
    count: E2E_CAPTIONS,
    authorization: AUTHORIZATION,
    webhookSecret: WEBHOOK_SECRET,
  })
  results.endToEnd = e2e
  console.log(
    `bench: end to end: ${e2e.callbacks}/${e2e.captions} callbacks, webhook 2xx -> callback ` +
      `p50 ${e2e.p50Ms.toFixed(1)} ms, p99 ${e2e.p99Ms.toFixed(1)} ms`,
  )
  if (e2e.callbacks < e2e.captions) {
    notes.push(`end to end: ${e2e.captions - e2e.callbacks} callbacks never arrived`)
  }

  // A dataset's export, streamed: the service's RSS rise while 10,000 captions are downloaded.
  const exportBatchIds = await seedExportBatches(db, {
    caller: CALLER,
    batches: EXPORT_BATCHES,
    items: BATCH_ITEMS,
  })
  await sleep(IDLE_SETTLE_MS)
  const exportRss = await measureExportRss({
    serviceUrl,
    pid: service.process.pid,
    authorization: AUTHORIZATION,
    batchIds: exportBatchIds,
    captions: EXPORT_BATCHES * BATCH_ITEMS,
  })
  console.log(formatExportRss(exportRss).split('\n').slice(0, 2).join('\n'))

  const batches = await measureBatchCreation({
    serviceUrl,
    authorization: AUTHORIZATION,
    items: BATCH_ITEMS,
    runs: BATCH_RUNS,
  })
  results.batches = { creation: batches, exportRss }
  console.log(
    `bench: POST /batches of ${batches.items} items: p50 ${batches.p50Ms.toFixed(0)} ms, ` +
      `max ${batches.maxMs.toFixed(0)} ms over ${batches.runs} runs`,
  )

  console.log(`\n${formatTable(results)}`)
  for (const note of notes) console.log(`note: ${note}`)
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true })
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`bench: figures written to ${path.relative(process.cwd(), RESULTS_FILE)}`)
  console.log(`bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

/** Captions holding a GoAPI task slot (the bench's tasks never finish). */
async function slotsHeld(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ held: number }>(
    `SELECT count(*)::int AS held FROM captions WHERE status IN ('queued', 'pending', 'processing')
      AND submit_state IN ('in_flight', 'ambiguous', 'accepted')`,
  )
  return rows[0]?.held ?? 0
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await sleep(50)
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping everything it started`)
    void cleanUp().then(() => process.exit(130))
  })
}
const limit = setTimeout(() => {
  console.error(`bench: over the ${TIME_LIMIT_SECONDS} s limit, stopping everything it started`)
  for (const child of children) child.process.kill('SIGKILL')
  setTimeout(() => process.exit(1), 15_000).unref()
  void cleanUp().finally(() => process.exit(1))
}, TIME_LIMIT_SECONDS * 1000)

main().then(
  async () => {
    clearTimeout(limit)
    await cleanUp()
    process.exit(process.exitCode ?? 0)
  },
  async (error: unknown) => {
    clearTimeout(limit)
    console.error('bench: failed', error)
    await cleanUp()
    process.exit(2)
  },
)
