/**
 * Pruning a large backlog while creations run: 1,000,000 captions finished 91 to 180 days ago (with their
 * batches, callback events and deliveries, bench/history-seed.ts) are swept with RETENTION_DAYS=90 by
 * the service's own sweep (pruneFinished, as the retention job runs it), while POST /captions is under
 * load. Prints creation before, during and after the sweep, the sweep's chunks and its total time.
 *
 *   npm run bench:prune   (BENCH_PRUNE_ROWS=1000000 BENCH_CONNECTIONS=20 BENCH_DURATION_SECONDS=10)
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { freePort } from '../src/lib/net.js'
import { type Pruned, pruneFinished } from '../src/work/retention.repository.js'
import { seedHistory } from './history-seed.js'
import { percentile } from './load.js'
import { type Child, spawnNode, stopChild, waitReady } from './processes.js'
import { describeFigures, loadOne } from './single-load.js'

const setting = (name: string, fallback: number) => Number(process.env[name] || fallback)
const ROWS = setting('BENCH_PRUNE_ROWS', 1_000_000)
const CONNECTIONS = setting('BENCH_CONNECTIONS', 20)
const SECONDS = setting('BENCH_DURATION_SECONDS', 10)
const DAY_MS = 86_400_000
const GOAPI_API_KEY = 'bench-goapi-key'
const CALLER = 'bench'
const CALLER_TOKEN = 'bench-caller-token-0123456789'
const quiet = { info() {}, debug() {}, warn() {} }

const cleanups: (() => Promise<unknown>)[] = []
async function cleanUp() {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
}

async function main() {
  const started = Date.now()
  const root = await mkdtemp(path.join(tmpdir(), 'caption-prune-'))
  cleanups.push(() => rm(root, { recursive: true, force: true, maxRetries: 3 }))
  await chmod(root, 0o755)
  const database = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pg'),
    log: quiet,
    persistent: false,
  })
  cleanups.push(() => database.stop())
  await applyMigrations(database.url)
  const db = new pg.Pool({ connectionString: database.url, max: 4 })
  db.on('error', () => {})
  cleanups.push(() => db.end())

  const children: Child[] = []
  const start = (name: string, args: string[], url: string, env: Record<string, string>) => {
    const child = spawnNode(name, args, url, env, (exited, reason) => {
      if (exited.process.killed) return
      console.error(`prune: ${exited.name} exited early (${reason}):\n${exited.output.join('\n')}`)
    })
    children.push(child)
    cleanups.push(() => stopChild(child))
    return child
  }
  const simulatorPort = await freePort()
  const goapiUrl = `http://127.0.0.1:${simulatorPort}`
  const simulator = start('simulator', ['dist/goapi-simulator/cli.js'], goapiUrl, {
    GOAPI_SIM_PORT: String(simulatorPort),
    GOAPI_SIM_API_KEY: GOAPI_API_KEY,
    GOAPI_SIM_LOG_LEVEL: 'warn',
    GOAPI_SIM_CREATE_LATENCY_MS: '0',
    GOAPI_SIM_DROP_WEBHOOK_RATE: '1',
    GOAPI_SIM_STEP_DELAY_MS: '3600000',
  })
  await waitReady(simulator, '/_sim/faults', { 'x-api-key': GOAPI_API_KEY })

  const seedStarted = Date.now()
  await seedHistory(db, {
    rows: ROWS,
    caller: CALLER,
    days: 90,
    endDaysAgo: 91,
    onProgress: (rows) => process.stdout.write(`\rprune: seeded ${rows} expired captions`),
  })
  await db.query('VACUUM ANALYZE')
  console.log(` in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s (VACUUM ANALYZE included)`)

  const serviceUrl = `http://127.0.0.1:${await freePort()}`
  const service = start('service', ['dist/server.js'], serviceUrl, {
    DATABASE_URL: database.url,
    GOAPI_API_KEY,
    GOAPI_BASE_URL: goapiUrl,
    PUBLIC_BASE_URL: serviceUrl,
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    API_TOKENS: `${CALLER}:${CALLER_TOKEN}`,
    RATE_LIMIT_PER_MINUTE: '100000000',
    GOAPI_POLL_AFTER_SECONDS: '3600',
    GOAPI_MAX_CONCURRENCY: '0',
    // The bench runs the sweep itself, to time it; the service's own would start at once.
    RETENTION_DAYS: '0',
    HOST: '127.0.0.1',
    PORT: new URL(serviceUrl).port,
    LOG_LEVEL: 'warn',
  })
  await waitReady(service, '/readyz')
  const creation = [
    {
      method: 'POST' as const,
      path: '/captions',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLER_TOKEN}` },
      body: JSON.stringify({
        imageUrl: 'https://images.example.com/bench/cat.png',
        promptStyle: 'Straightforward',
      }),
    },
  ]
  const create = (seconds: number, until?: Promise<unknown>) =>
    loadOne(serviceUrl, creation, { connections: CONNECTIONS, seconds, ...(until ? { until } : {}) })

  await create(2)
  const before = await create(SECONDS)
  console.log(`prune: creation before the sweep: ${describeFigures(before)}`)

  const chunkMs: number[] = []
  let chunkStarted = performance.now()
  const sweepStarted = performance.now()
  const sweep = pruneFinished(db, new Date(Date.now() - 90 * DAY_MS), (_pruned: Pruned) => {
    chunkMs.push(performance.now() - chunkStarted)
    chunkStarted = performance.now()
  })
  const during = await create(SECONDS, sweep)
  const pruned = await sweep
  const sweepSeconds = (performance.now() - sweepStarted) / 1000
  console.log(`prune: creation during the sweep: ${describeFigures(during)}`)
  const after = await create(SECONDS)
  console.log(`prune: creation after the sweep: ${describeFigures(after)}`)
  const sorted = chunkMs.sort((a, b) => a - b)
  console.log(
    `prune: swept ${JSON.stringify(pruned)} in ${sweepSeconds.toFixed(1)} s, ${sorted.length} chunks ` +
      `(each: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, ` +
      'pause included)',
  )
  const left = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM captions WHERE completed_at < now() - interval '90 days'`,
  )
  // The machine drifts: during is compared with the mean of before and after.
  const reference = (before.p99Ms + after.p99Ms) / 2
  console.log(
    `prune: creation p99 during / mean of before and after: ${(during.p99Ms / reference).toFixed(2)} (target <= 1.25); ` +
      `${left.rows[0]?.count} expired captions left; done in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  )
  if (during.p99Ms > 1.25 * reference || (left.rows[0]?.count ?? 0) > 0) process.exitCode = 1
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanUp().then(() => process.exit(130)))
main()
  .catch((error: unknown) => {
    console.error('prune: failed', error)
    process.exitCode = 2
  })
  .finally(() => cleanUp().then(() => process.exit()))
