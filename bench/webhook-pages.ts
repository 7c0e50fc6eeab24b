/**
 * The pages a finishing webhook writes, on a young table and on a history of a million finished captions
 * (bench/history-seed.ts): the group commit's `advance-captions` statement (groups of 10) completes pending
 * captions in rounds, young and history in turn, each round after a CHECKPOINT, so every page a round
 * dirties first is written whole to the WAL once (a full-page image). Prints, per webhook, the statement's
 * time, the WAL bytes and the full-page images; the pages are what a server writes back and a replica
 * replays, on top of the statement's time. About 4 minutes, most of it the seeding.
 *
 *   npx tsx bench/webhook-pages.ts
 *
 * WEBHOOK_PAGES_DIR keeps the seeded server between runs (seeded once, copied for each run).
 * WEBHOOK_PAGES_SQL: statements (separated by ;;) run on both databases before the pending captions are
 * seeded, e.g. `ALTER TABLE captions SET (fillfactor = 100)` for the table as it was before migration
 * captions_room_for_updates; WEBHOOK_PAGES_SEED_SQL the same before the history is seeded.
 */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { advanceCaptions } from '../src/captions/caption-advance.repository.js'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { type SeededCaption, seedPendingCaptions } from './captions.js'
import { seedHistory } from './history-seed.js'

const KEPT = process.env.WEBHOOK_PAGES_DIR
const ROOT = KEPT ?? (await mkdtemp(path.join(tmpdir(), 'caption-webhook-pages-')))
const ROWS = 1_000_000
const PENDING = 40_000
const GROUP = 10
const PER_ROUND = 4_000
const ROUNDS = 4
const statements = (text: string | undefined) => (text ? text.split(';;') : [])
const VARIANT_SQL = statements(process.env.WEBHOOK_PAGES_SQL)
const SEED_SQL = statements(process.env.WEBHOOK_PAGES_SEED_SQL)
const fresh = await stat(`${ROOT}/pg`).then(
  () => false,
  () => true,
)
await mkdir(ROOT, { recursive: true })
await chmod(ROOT, 0o755)
const database = await startEmbeddedPostgres({
  dataDir: `${ROOT}/pg`,
  log: { info() {}, debug() {}, warn() {} },
  persistent: true,
  settings: { shared_buffers: '512MB' },
})
const admin = new pg.Pool({ connectionString: database.url, max: 1 })
const urlOf = (name: string) => {
  const url = new URL(database.url)
  url.pathname = `/${name}`
  return url.toString()
}
const poolOn = (name: string) => {
  const pool = new pg.Pool({ connectionString: urlOf(name), max: 2 })
  pool.on('error', () => {})
  return pool
}
const AGES = ['young', 'history'] as const
const pools = {} as Record<(typeof AGES)[number], pg.Pool>
try {
  for (const age of AGES) {
    if (fresh) {
      await admin.query(`CREATE DATABASE wh_${age}`)
      await applyMigrations(urlOf(`wh_${age}`))
    }
    pools[age] = poolOn(`wh_${age}`)
  }
  if (fresh) {
    const started = Date.now()
    for (const age of AGES) for (const statement of SEED_SQL) await pools[age].query(statement)
    await seedHistory(pools.history, { rows: ROWS, caller: 'bench', days: 90, endDaysAgo: 0 })
    await pools.history.query('VACUUM ANALYZE')
    console.log(`seeded in ${(Date.now() - started) / 1000} s`)
  }
  for (const age of AGES) {
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'wh_${age}_template'`)
    if (rowCount) continue
    await pools[age].end()
    await admin.query(`CREATE DATABASE wh_${age}_template TEMPLATE wh_${age} STRATEGY file_copy`)
    pools[age] = poolOn(`wh_${age}`)
  }
  // Each run starts from the seeded history: the databases are copied from their templates.
  for (const age of AGES) {
    await pools[age].end()
    await admin.query(`DROP DATABASE IF EXISTS wh_${age}_run`)
    await admin.query(`CREATE DATABASE wh_${age}_run TEMPLATE wh_${age}_template STRATEGY file_copy`)
    pools[age] = poolOn(`wh_${age}_run`)
    for (const statement of VARIANT_SQL) await pools[age].query(statement)
  }
  const seeded = {} as Record<(typeof AGES)[number], SeededCaption[]>
  for (const age of AGES) {
    seeded[age] = await seedPendingCaptions(pools[age], {
      caller: 'bench',
      taskIdPrefix: `bench-${age}-task-`,
      count: PENDING,
      webhookSecret: 'bench-webhook-secret-0123456789',
    })
    await pools[age].query('VACUUM ANALYZE')
    const { rows } = await pools[age].query(
      `SELECT pg_relation_size('captions') / 8192 AS pages, (SELECT count(DISTINCT (ctid::text::point)[0]) FROM captions WHERE status = 'pending') AS pending_pages`,
    )
    console.log(`${age}: ${rows[0].pages} heap pages, pending captions on ${rows[0].pending_pages} pages`)
  }
  const text =
    `This is a vibrant, digitally-created photograph featuring the word "PIPI" made entirely from colorful, textured flower petals. `.repeat(
      3,
    )
  const next = { young: 0, history: 0 }
  const order = ['young', 'history', 'history', 'young', 'young', 'history', 'history', 'young'] as const
  const totals = { young: { ms: 0, wal: 0, fpi: 0, n: 0 }, history: { ms: 0, wal: 0, fpi: 0, n: 0 } }
  for (const age of order.slice(0, ROUNDS * 2)) {
    await admin.query('CHECKPOINT')
    const before = (await admin.query('SELECT wal_bytes::bigint AS b, wal_fpi AS f FROM pg_stat_wal')).rows[0]
    const started = performance.now()
    for (let done = 0; done < PER_ROUND; done += GROUP) {
      const group = seeded[age].slice(next[age], next[age] + GROUP)
      next[age] += GROUP
      const now = new Date()
      await advanceCaptions(
        pools[age],
        group.map((caption) => ({
          captionId: caption.id,
          update: {
            goapiTaskId: caption.taskId,
            status: 'completed',
            caption: text,
            goapiTask: { task_id: caption.taskId, status: 'completed', output: { text } },
            now,
            nextAttemptAt: now,
          },
        })),
      )
    }
    const ms = performance.now() - started
    const after = (await admin.query('SELECT wal_bytes::bigint AS b, wal_fpi AS f FROM pg_stat_wal')).rows[0]
    const wal = Number(after.b) - Number(before.b)
    const fpi = Number(after.f) - Number(before.f)
    totals[age].ms += ms
    totals[age].wal += wal
    totals[age].fpi += fpi
    totals[age].n += PER_ROUND
    console.log(
      `${age.padEnd(8)} ${((ms * 1000) / PER_ROUND).toFixed(0)} µs/webhook, ${(wal / PER_ROUND).toFixed(0)} WAL bytes, ${(fpi / PER_ROUND).toFixed(2)} full pages`,
    )
  }
  for (const age of AGES) {
    const t = totals[age]
    console.log(
      `TOTAL ${age.padEnd(8)} ${((t.ms * 1000) / t.n).toFixed(0)} µs/webhook, ${(t.wal / t.n).toFixed(0)} WAL bytes, ${(t.fpi / t.n).toFixed(2)} full pages`,
    )
  }
  console.log(`history/young time: ${(totals.history.ms / totals.young.ms).toFixed(2)}`)
} finally {
  for (const pool of Object.values(pools)) await pool.end().catch(() => {})
  await admin.end()
  await database.stop()
  if (!KEPT) await rm(ROOT, { recursive: true, force: true })
}
