/**
 * Soak run: several replicas of the real service (`node dist/server.js`) on one PostgreSQL, in front of
 * the GoAPI simulator with random faults, a few thousand captions, one replica SIGKILLed halfway and
 * replaced. Loopback only, bounded in count and time. Prints the invariants it checked and exits
 * non-zero when one breaks.
 *
 *   npm run soak     (SOAK_CAPTIONS=2000 SOAK_REPLICAS=3 SOAK_MAX_CONCURRENCY=50 by default)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { request } from 'undici'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { createGoapiSimulator } from '../src/goapi-simulator/simulator.js'
import { freePort } from '../src/lib/net.js'

const CAPTIONS = Number(process.env.SOAK_CAPTIONS ?? 2000)
const REPLICAS = Number(process.env.SOAK_REPLICAS ?? 3)
/** The replicas share this many GoAPI task slots, so posts outrun it and captions wait their turn. */
const MAX_CONCURRENCY = Number(process.env.SOAK_MAX_CONCURRENCY ?? 50)
const CONCURRENCY = 32
const DRAIN_LIMIT_MS = 150_000
const API_KEY = 'soak-goapi-key'
const WEBHOOK_SECRET = 'soak-webhook-secret-0123456789'
const CALLER_TOKEN = 'soak-caller-token-0123456789'
const quiet = { info() {}, debug() {}, warn() {} }

interface Replica {
  name: string
  port: number
  process: ChildProcess
}

async function main(): Promise<number> {
  const started = Date.now()
  const root = await mkdtemp(path.join(tmpdir(), 'caption-soak-'))
  await chmod(root, 0o755)
  const server = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pg'),
    log: quiet,
    persistent: false,
  })
  const simulator = createGoapiSimulator({
    apiKey: API_KEY,
    faults: {
      createLatencyMs: 20,
      createFailureRate: 0.1,
      createFailureStatus: 503,
      createHangRate: 0.02,
      dropWebhookRate: 0.3,
      duplicateWebhookRate: 0.2,
      reorderWebhooks: true,
      failTaskRate: 0.05,
      neverFinishRate: 0.01,
      stepDelayMs: 200,
    },
  })
  const goapiUrl = await simulator.listen()
  const replicas: Replica[] = []
  try {
    await applyMigrations(server.url)
    const spawnReplica = async (name: string) => {
      const replica = await startReplica(name, server.url, goapiUrl)
      replicas.push(replica)
      return replica
    }
    for (let i = 1; i <= REPLICAS; i++) await spawnReplica(`replica-${i}`)
    console.log(
      `soak: ${CAPTIONS} captions, ${REPLICAS} replicas, simulator faults on, one replica killed halfway`,
    )

    const accepted = new Map<string, string>() // caption id → idempotency key (or '')
    const idempotencyMismatches: string[] = []
    let refusedByDeadReplica = 0
    let killed = false
    let next = 0
    const post = async (): Promise<void> => {
      for (;;) {
        const index = next++
        if (index >= CAPTIONS) return
        if (!killed && index >= CAPTIONS / 2) {
          killed = true
          const victim = replicas[1] as Replica
          victim.process.kill('SIGKILL')
          console.log(`soak: SIGKILLed ${victim.name} after ${index} posts; starting a replacement`)
          void spawnReplica(`replica-${REPLICAS + 1}`)
        }
        const live = replicas.filter(
          (replica) => replica.process.exitCode === null && !replica.process.killed,
        )
        const target = live[index % live.length] as Replica
        const key = index % 4 === 0 ? `soak-key-${index}` : ''
        const body = JSON.stringify({ imageUrl: `https://images.example.com/soak/${index}.png` })
        const answer = await postCaption(target.port, body, key)
        if (answer === undefined) {
          refusedByDeadReplica++
          continue
        }
        accepted.set(answer, key)
        if (key) {
          // The same request again, as a caller retrying would: it must name the same caption.
          const again = await postCaption(target.port, body, key)
          if (again !== undefined && again !== answer) idempotencyMismatches.push(key)
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, post))
    const postedAt = Date.now()
    console.log(
      `soak: ${accepted.size} captions accepted with 202 in ${((postedAt - started) / 1000).toFixed(1)} s`,
    )

    const db = new pg.Client({ connectionString: server.url })
    await db.connect()
    let open = Number.POSITIVE_INFINITY
    while (open > 0 && Date.now() - postedAt < DRAIN_LIMIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const result = await db.query(
        `SELECT count(*)::int AS open FROM captions WHERE status NOT IN ('completed','failed')`,
      )
      open = result.rows[0].open
    }
    const rows = (
      await db.query<{ id: string; status: string; error_code: string | null; resubmissions: number }>(
        'SELECT id, status, error_code, resubmissions FROM captions',
      )
    ).rows
    // The GoAPI task slots (goapi_slots): the cap's rows, each given back once its caption ended.
    const slots = (
      await db.query<{ in_cap: number; held: number; holding: number }>(
        `SELECT count(*) FILTER (WHERE slot > 0)::int AS in_cap, count(caption_id)::int AS held,
            (SELECT count(*)::int FROM captions WHERE status IN ('queued', 'pending', 'processing')
              AND submit_state IN ('in_flight', 'ambiguous', 'accepted')) AS holding
          FROM goapi_slots`,
      )
    ).rows[0] ?? { in_cap: 0, held: 0, holding: 0 }
    // GET /usage's per-day counts (caption_usage_days), kept by triggers under three replicas and a kill,
    // against counting the captions one by one.
    const usage = (
      await db.query<{ kept: string; counted: string }>(
        `SELECT (SELECT json_build_array(sum(captions), sum(reused), sum(failed), sum(goapi_tasks))::text
              FROM caption_usage_days) AS kept,
            (SELECT json_build_array(count(*), count(reused_from), count(*) FILTER (WHERE status = 'failed'),
              sum(goapi_tasks))::text FROM captions) AS counted`,
      )
    ).rows[0] ?? { kept: '', counted: '?' }
    await db.end()

    const tasksByCaption = new Map<string, number>()
    let tasksWithoutCaption = 0
    const ids = new Set(rows.map((row) => row.id))
    for (const entry of simulator.tasks.values()) {
      const captionId = entry.task.config.webhook_config.secret.split('.')[0] ?? ''
      if (!ids.has(captionId)) tasksWithoutCaption++
      tasksByCaption.set(captionId, (tasksByCaption.get(captionId) ?? 0) + 1)
    }
    const byRow = new Map(rows.map((row) => [row.id, row]))
    const lost = [...accepted.keys()].filter((id) => !byRow.has(id))
    const notTerminal = rows.filter((row) => row.status !== 'completed' && row.status !== 'failed')
    const failedWithoutReason = rows.filter((row) => row.status === 'failed' && !row.error_code)
    const unexplainedTasks = rows.filter((row) => (tasksByCaption.get(row.id) ?? 0) > 1 + row.resubmissions)
    const completedWithoutTask = rows.filter(
      (row) => row.status === 'completed' && !tasksByCaption.get(row.id),
    )
    const extraTasks = rows.reduce((sum, row) => sum + Math.max(0, (tasksByCaption.get(row.id) ?? 0) - 1), 0)
    const failures = countBy(
      rows.filter((row) => row.status === 'failed').map((row) => row.error_code ?? '?'),
    )

    const summary = simulator.summary()
    // A task that never finishes is failed at its deadline and its slot given to another: GoAPI still
    // counts it as running, which the service cannot know.
    const abandoned = [...simulator.tasks.values()].filter((task) => task.fate === 'never-finish').length
    const peak = summary.counters.peakUnfinished
    const checks: [string, boolean, string][] = [
      [
        'every 202 caption exists (nothing acknowledged is lost)',
        lost.length === 0,
        `${lost.length} missing`,
      ],
      [
        'every caption ended completed or failed (none stuck)',
        notTerminal.length === 0,
        `${notTerminal.length} open`,
      ],
      [
        'every failed caption carries a reason',
        failedWithoutReason.length === 0,
        `${failedWithoutReason.length}`,
      ],
      [
        'one paid GoAPI task per caption, each extra one counted as a resubmission',
        unexplainedTasks.length === 0,
        `${extraTasks} extra task(s), all after a create with no answer; ${unexplainedTasks.length} unexplained`,
      ],
      [
        'every completed caption has its GoAPI task',
        completedWithoutTask.length === 0,
        `${completedWithoutTask.length}`,
      ],
      ['no GoAPI task without its caption', tasksWithoutCaption === 0, `${tasksWithoutCaption}`],
      [
        `never more than GOAPI_MAX_CONCURRENCY (${MAX_CONCURRENCY}) GoAPI tasks running at once, besides those given up at their deadline`,
        peak <= MAX_CONCURRENCY + abandoned,
        `peak ${peak}, ${abandoned} never finished`,
      ],
      [
        `the ${MAX_CONCURRENCY} task slots shared by the replicas, held by exactly the captions holding one`,
        slots.in_cap === MAX_CONCURRENCY && slots.held === slots.holding,
        `${slots.in_cap} slots, ${slots.held} held, ${slots.holding} captions holding one`,
      ],
      [
        "GET /usage's per-day counts equal counting the captions (captions, reused, failed, tasks)",
        usage.kept === usage.counted,
        `${usage.kept} kept, ${usage.counted} counted`,
      ],
      [
        'an Idempotency-Key repeated names the same caption',
        idempotencyMismatches.length === 0,
        `${idempotencyMismatches.length}`,
      ],
    ]
    console.log(
      `soak: ${rows.length} captions in the database (${rows.length - accepted.size} committed but unanswered when a replica died, ` +
        `${refusedByDeadReplica} posts refused by the dead replica); ` +
        `completed ${rows.filter((row) => row.status === 'completed').length}, failed ${JSON.stringify(failures)}`,
    )
    console.log(
      `soak: GoAPI saw ${summary.counters.createRequests} creates (${summary.counters.createFaults} refused with 503, ` +
        `${summary.counters.createHangs} never answered), ${summary.tasks} tasks, ${summary.counters.getRequests} polls, ` +
        `${summary.webhooks.delivered} webhooks delivered, ${summary.webhooks.dropped} dropped`,
    )
    console.log(`soak: drained in ${((Date.now() - postedAt) / 1000).toFixed(1)} s; invariants:`)
    for (const [name, ok, detail] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name} (${detail})`)
    const passed = checks.every(([, ok]) => ok)
    console.log(`soak: ${passed ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return passed ? 0 : 1
  } finally {
    await Promise.all(replicas.map(stopReplica))
    await simulator.close()
    await server.stop()
    await rm(root, { recursive: true, force: true })
  }
}

async function startReplica(name: string, databaseUrl: string, goapiUrl: string): Promise<Replica> {
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      GOAPI_API_KEY: API_KEY,
      GOAPI_BASE_URL: goapiUrl,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      WEBHOOK_SECRET,
      API_TOKENS: `soak:${CALLER_TOKEN}`,
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_READS_PER_MINUTE: '1000000',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'error',
      GOAPI_TIMEOUT_SECONDS: '3',
      GOAPI_POLL_AFTER_SECONDS: '3',
      GOAPI_POLL_INTERVAL_SECONDS: '1',
      GOAPI_POLL_MAX_INTERVAL_SECONDS: '3',
      GOAPI_RESUBMIT_AFTER_SECONDS: '6',
      CAPTION_DEADLINE_SECONDS: '60',
      WORK_INTERVAL_MS: '200',
      WORK_LEASE_SECONDS: '10',
      GOAPI_MAX_CONCURRENCY: String(MAX_CONCURRENCY),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const deadline = Date.now() + 20_000
  for (;;) {
    const ready = await request(`http://127.0.0.1:${port}/readyz`)
      .then(async (response) => {
        await response.body.dump()
        return response.statusCode === 200
      })
      .catch(() => false)
    if (ready) return { name, port, process: child }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not become ready`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.exitCode !== null || replica.process.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    replica.process.once('exit', () => resolve())
    replica.process.kill('SIGTERM')
  })
}

/** The caption id of a 202, or undefined when the replica could not be reached or did not accept. */
async function postCaption(port: number, body: string, key: string): Promise<string | undefined> {
  try {
    const response = await request(`http://127.0.0.1:${port}/captions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${CALLER_TOKEN}`,
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body,
    })
    const json = (await response.body.json()) as { id?: string }
    return response.statusCode === 202 ? json.id : undefined
  } catch {
    return undefined
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('soak: crashed', error)
    process.exit(2)
  },
)
