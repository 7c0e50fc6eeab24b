import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR, migrationNames } from '../../src/db/migration-files.js'
import type { Queryable } from '../../src/db/pool.js'
import { type UsageTotals, usageTotals } from '../../src/spend/spend.repository.js'
import { createEmptyDatabase, createTestDatabase } from '../helpers/database.js'
import { seedCaption } from '../helpers/seed-captions.js'

const DAY_MS = 24 * 60 * 60 * 1000
const FIRST_DAY = Date.parse('2026-11-20T00:00:00Z')
const STATUSES = ['queued', 'pending', 'processing', 'completed', 'failed', 'canceled'] as const
type Status = (typeof STATUSES)[number]

/** What GET /usage answered before the daily counts: every caption of the range, one by one. */
async function countedOneByOne(
  db: pg.Pool,
  range: { caller: string; from: Date; to: Date },
): Promise<UsageTotals> {
  const { rows } = await db.query<UsageTotals>(
    `SELECT sum(captions)::int AS captions, sum(reused)::int AS reused, sum(failed)::int AS failed,
        sum(goapi_tasks)::int AS "goapiTasks"
      FROM (SELECT count(*) AS captions, count(reused_from) AS reused,
          count(*) FILTER (WHERE status = 'failed') AS failed, coalesce(sum(goapi_tasks), 0) AS goapi_tasks
        FROM captions WHERE caller = $1 AND created_at >= $2 AND created_at < $3
        UNION ALL
        SELECT coalesce(sum(captions), 0), coalesce(sum(reused), 0), coalesce(sum(failed), 0),
          coalesce(sum(goapi_tasks), 0)
        FROM erased_usage WHERE caller = $1 AND (day::timestamp AT TIME ZONE 'UTC') >= $2
          AND (day::timestamp AT TIME ZONE 'UTC') < $3) AS kept`,
    [range.caller, range.from, range.to],
  )
  return rows[0] as UsageTotals
}

/**
 * Per caller and day with captions: the daily counts' sums, and the live captions counted one by one. Equal
 * when the counts are right (days whose counts all came back to 0 have no caption left and are left out).
 */
async function dailyCountsAndCaptions(db: Queryable): Promise<{ daily: unknown[]; counted: unknown[] }> {
  const sums = (from: string, counts: string) =>
    db
      .query<{ counts: number[] }>(
        `SELECT caller, day::text, ARRAY[${counts}]::int[] AS counts FROM ${from} GROUP BY caller, day
          ORDER BY caller, day`,
      )
      .then((result) => result.rows.filter((row) => row.counts.some((count) => count !== 0)))
  const [daily, counted] = await Promise.all([
    sums('caption_usage_days', 'sum(captions), sum(reused), sum(failed), sum(goapi_tasks)'),
    sums(
      "(SELECT *, (created_at AT TIME ZONE 'UTC')::date AS day FROM captions) AS live",
      "count(*), count(reused_from), count(*) FILTER (WHERE status = 'failed'), sum(goapi_tasks)",
    ),
  ])
  return { daily, counted }
}

interface NewRow {
  caller: number
  day: number
  atMs: number
  status: Status
  reused: boolean
  goapiTasks: number
}

/** Inserts captions in one statement, as a batch does; returns their ids. */
async function insertRows(db: Queryable, rows: readonly NewRow[], callers: readonly string[]) {
  const ids = rows.map(() => randomUUID())
  const finished = (status: Status) => ['completed', 'failed', 'canceled'].includes(status)
  const createdAt = rows.map((row) => new Date(FIRST_DAY + row.day * DAY_MS + row.atMs))
  await db.query(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, created_at, updated_at,
        completed_at, goapi_tasks, reused_from)
      SELECT id, caller, status, 'https://images.example.com/' || id || '.png', 'Descriptive', 'any',
          created_at, created_at, completed_at, goapi_tasks, reused_from
        FROM unnest($1::uuid[], $2::text[], $3::caption_status[], $4::timestamptz[], $5::timestamptz[],
          $6::int[], $7::uuid[]) AS u(id, caller, status, created_at, completed_at, goapi_tasks, reused_from)`,
    [
      ids,
      rows.map((row) => callers[row.caller]),
      rows.map((row) => row.status),
      createdAt,
      rows.map((row, index) => (finished(row.status) ? createdAt[index] : null)),
      rows.map((row) => row.goapiTasks),
      rows.map((row) => (row.reused ? randomUUID() : null)),
    ],
  )
  return ids
}

const newRow = fc.record({
  caller: fc.nat({ max: 2 }),
  day: fc.nat({ max: 3 }),
  atMs: fc.constantFrom(0, 1, 3_600_000, 43_200_000, DAY_MS - 1),
  status: fc.constantFrom(...STATUSES),
  reused: fc.boolean(),
  goapiTasks: fc.nat({ max: 2 }),
})
const which = fc.nat({ max: 1000 })
const connection = fc.nat({ max: 2 })
const operation = fc.oneof(
  fc.record({
    op: fc.constant('insert' as const),
    on: connection,
    rows: fc.array(newRow, { minLength: 1, maxLength: 5 }),
  }),
  fc.record({
    op: fc.constant('status' as const),
    on: connection,
    which,
    status: fc.constantFrom(...STATUSES),
  }),
  fc.record({ op: fc.constant('reused' as const), on: connection, which, reused: fc.boolean() }),
  fc.record({ op: fc.constant('task' as const), on: connection, which }),
  fc.record({ op: fc.constant('erase' as const), on: connection, which }),
  fc.record({ op: fc.constant('prune' as const), on: connection, beforeDay: fc.nat({ max: 4 }) }),
)
/** An instant near the test's days: their midnights, just around them, and within them. */
const instant = fc
  .tuple(fc.integer({ min: -1, max: 5 }), fc.constantFrom(0, 1, -1, 3_600_000, 43_200_000))
  .map(([day, offset]) => new Date(FIRST_DAY + day * DAY_MS + offset))

describe('per-day usage counts', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let pool: pg.Pool
  let clients: pg.Client[]

  beforeAll(async () => {
    database = await createTestDatabase()
    pool = new pg.Pool({ connectionString: database.url, max: 4 })
    clients = [0, 1, 2].map(() => new pg.Client({ connectionString: database.url }))
    await Promise.all(clients.map((client) => client.connect()))
  })
  afterAll(async () => {
    await Promise.all((clients ?? []).map((client) => client.end()))
    await pool?.end()
    await database?.drop()
  })

  it('when captions are inserted, changed, erased and pruned in any order, then usageTotals answers every range as counting each caption did', async () => {
    const callers = ['ann', 'ben', 'cat']
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 1, maxLength: 25 }),
        fc.array(fc.tuple(instant, instant), { minLength: 1, maxLength: 6 }),
        async (operations, ranges) => {
          await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
          let ids: string[] = []
          const pick = (index: number) => ids[index % ids.length] as string
          for (const step of operations) {
            const db = clients[step.on] as pg.Client
            if (step.op === 'insert') {
              ids = ids.concat(await insertRows(db, step.rows, callers))
              continue
            }
            if (step.op === 'prune') {
              await db.query(
                `DELETE FROM captions WHERE id IN (SELECT id FROM captions WHERE completed_at < $1
                  AND status IN ('completed', 'failed', 'canceled') ORDER BY completed_at LIMIT 3)`,
                [new Date(FIRST_DAY + step.beforeDay * DAY_MS)],
              )
              continue
            }
            if (ids.length === 0) continue
            if (step.op === 'status')
              await db.query(
                `UPDATE captions SET status = $2::caption_status,
                    completed_at = CASE WHEN $2 IN ('completed', 'failed', 'canceled') THEN created_at END
                  WHERE id = $1`,
                [pick(step.which), step.status],
              )
            if (step.op === 'reused')
              await db.query('UPDATE captions SET reused_from = $2 WHERE id = $1', [
                pick(step.which),
                step.reused ? randomUUID() : null,
              ])
            if (step.op === 'task')
              await db.query('UPDATE captions SET goapi_tasks = goapi_tasks + 1 WHERE id = $1', [
                pick(step.which),
              ])
            if (step.op === 'erase') await db.query('DELETE FROM captions WHERE id = $1', [pick(step.which)])
          }
          for (const [a, b] of ranges) {
            const [from, to] = a <= b ? [a, b] : [b, a]
            for (const caller of callers) {
              const range = { caller, from, to }
              expect(await usageTotals(pool, range), JSON.stringify(range)).toEqual(
                await countedOneByOne(pool, range),
              )
            }
          }
        },
      ),
      { numRuns: 50 },
    )
  })

  it("when eight replicas insert and change one caller's captions at once, across days in either order, then none deadlocks and the daily counts add up", async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const replicas = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: database.url, max: 4 }))
    const busy = ['busy']
    const row = (day: number, status: Status = 'queued'): NewRow => ({
      caller: 0,
      day,
      atMs: 43_200_000,
      status,
      reused: false,
      goapiTasks: 0,
    })
    try {
      await Promise.all(
        replicas.map((replica, r) =>
          Promise.all(
            Array.from({ length: 50 }, async (_, n) => {
              const [id] = await insertRows(replica, [row(0)], busy)
              await replica.query('UPDATE captions SET goapi_tasks = goapi_tasks + 1 WHERE id = $1', [id])
              if (n % 5 === 0)
                await replica.query("UPDATE captions SET status = 'failed' WHERE id = $1", [id])
              if (n % 10 === 0) await insertRows(replica, [row(1), row(0, 'completed'), row(2)], busy)
              // One transaction over two days, in an order that differs between replicas.
              const client = await replica.connect()
              try {
                await client.query('BEGIN')
                const days = (r + n) % 2 === 0 ? [1, 2] : [2, 1]
                for (const day of days) {
                  const [other] = await insertRows(client, [row(day)], busy)
                  await client.query('UPDATE captions SET goapi_tasks = 2 WHERE id = $1', [other])
                }
                await client.query('COMMIT')
              } finally {
                client.release()
              }
            }),
          ),
        ),
      )
    } finally {
      await Promise.all(replicas.map((replica) => replica.end()))
    }
    const { daily, counted } = await dailyCountsAndCaptions(pool)
    expect(daily).toEqual(counted)
    expect((counted[0] as { counts: number[] }).counts[0]).toBe(8 * 50 + 8 * 5)
  })
})

describe('the migration that adds the per-day counts', () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>>
  let db: pg.Pool

  beforeAll(async () => {
    database = await createEmptyDatabase()
    db = new pg.Pool({ connectionString: database.url, max: 2 })
  })
  afterAll(async () => {
    await db?.end()
    await database?.drop()
  })

  it('when captions were there before it, then it counts each of them once, and later changes add to that', async () => {
    const names = await migrationNames()
    const script = (name: string) => readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8')
    const last = names.findIndex((name) => name.endsWith('_caption_usage_days'))
    expect(last).toBeGreaterThan(0)
    for (const name of names.slice(0, last)) await db.query(await script(name))

    const createdAt = new Date(FIRST_DAY + 3_600_000)
    const paid = await seedCaption(db, { caller: 'old', createdAt, goapiTasks: 2 })
    await seedCaption(db, { caller: 'old', createdAt, reusedFrom: paid })
    await seedCaption(db, {
      caller: 'old',
      createdAt: new Date(FIRST_DAY + DAY_MS),
      status: 'failed',
      goapiTasks: 1,
    })
    await seedCaption(db, { caller: 'other', createdAt, status: 'pending' })

    for (const name of names.slice(last)) await db.query(await script(name))
    expect((await db.query('SELECT DISTINCT shard FROM caption_usage_days')).rows).toEqual([{ shard: 0 }])

    await seedCaption(db, { caller: 'old', createdAt, goapiTasks: 1 })
    await db.query("UPDATE captions SET status = 'failed' WHERE caller = 'other'")
    await db.query('DELETE FROM captions WHERE id = $1', [paid])
    const { daily, counted } = await dailyCountsAndCaptions(db)
    expect(daily).toEqual(counted)
    const day = { caller: 'old', from: new Date(FIRST_DAY), to: new Date(FIRST_DAY + DAY_MS) }
    expect(await usageTotals(db, day)).toEqual({ captions: 3, reused: 1, failed: 0, goapiTasks: 3 })
    expect(await usageTotals(db, { ...day, caller: 'other' })).toEqual({
      captions: 1,
      reused: 0,
      failed: 1,
      goapiTasks: 0,
    })
  })
})
