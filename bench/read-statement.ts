/**
 * What a read's statement costs PostgreSQL: GET /captions/{id}'s (the resource written as JSON by
 * the server, CAPTION_RESOURCE_JSON), the columns it read before (VIEW_COLUMNS, parsed by the service),
 * and the baseline's 13 columns. Server execution time from EXPLAIN ANALYZE, averaged over captions in
 * turn, on an embedded PostgreSQL with 5,000 captions. About 15 s.
 *
 *   npx tsx bench/read-statement.ts
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { CAPTION_RESOURCE_JSON } from '../src/captions/caption-json.repository.js'
import { VIEW_COLUMNS } from '../src/captions/caption-rows.repository.js'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { seedPendingCaptions } from './captions.js'

const CAPTIONS = 5_000
const RUNS = 1_000
const ROUNDS = 3

const STATEMENTS = {
  'resource as JSON (now)': `SELECT c.id, c.goapi_task_id AS "goapiTaskId", ${CAPTION_RESOURCE_JSON}::text AS resource
    FROM captions c WHERE c.id = $1 AND c.caller = $2`,
  'view columns (before)': `SELECT ${VIEW_COLUMNS} FROM captions WHERE id = $1 AND caller = $2`,
  'baseline, 13 columns': `SELECT id, status, image_url, prompt_style, caption_length, caption, error_code, error_message,
    goapi_task_id, metadata, created_at, updated_at, completed_at FROM captions WHERE id = $1 AND caller = $2`,
}

const root = await mkdtemp(path.join(tmpdir(), 'caption-read-statement-'))
// Under root PostgreSQL runs as the postgres user, which must be able to enter this directory.
await chmod(root, 0o755)
const database = await startEmbeddedPostgres({
  dataDir: path.join(root, 'pg'),
  log: { info() {}, debug() {}, warn() {} },
  persistent: false,
})
const db = new pg.Pool({ connectionString: database.url, max: 1 })
try {
  await applyMigrations(database.url)
  const captions = await seedPendingCaptions(db, {
    caller: 'bench',
    taskIdPrefix: 'read-statement-',
    count: CAPTIONS,
    webhookSecret: 'bench-webhook-secret-0123456789',
  })
  await db.query(
    `UPDATE captions SET status = 'completed', caption = 'A cat on a mat.', completed_at = now()`,
  )
  await db.query('VACUUM ANALYZE captions')
  const figures = new Map<string, number[]>()
  // Rounds in turn, so that the machine's load weighs on each statement alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, text] of Object.entries(STATEMENTS)) {
      let totalMs = 0
      for (let run = 0; run < RUNS; run++) {
        const id = captions[(round * RUNS + run) % CAPTIONS]?.id
        const { rows } = await db.query({
          text: `EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) ${text}`,
          values: [id, 'bench'],
        })
        totalMs += rows[0]['QUERY PLAN'][0]['Execution Time']
      }
      figures.set(name, [...(figures.get(name) ?? []), (totalMs / RUNS) * 1000])
    }
  }
  for (const [name, rounds] of figures) {
    console.log(
      `read statement: ${name.padEnd(24)} ${Math.min(...rounds).toFixed(1)} µs of server execution ` +
        `(rounds: ${rounds.map((us) => us.toFixed(1)).join(', ')})`,
    )
  }
} finally {
  await db.end()
  await database.stop()
  await rm(root, { recursive: true, force: true })
}
