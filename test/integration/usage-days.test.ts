import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR, migrationNames } from '../../src/db/migration-files.js'
import type { Queryable } from '../../src/db/pool.js'
import { type UsageTotals, usageTotals } from '../../src/spend/spend.repository.js'
import { foldPastUsageDays } from '../../src/spend/usage-days.repository.js'
import { utcDay } from '../../src/spend/utc-days.js'
import { createWorker } from '../../src/work/worker.js'
import { createEmptyDatabase, createTestDatabase } from '../helpers/database.js'
import { seedCaption } from '../helpers/seed-captions.js'
import { eventually, startTestService } from '../helpers/service.js'

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
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never

/** Runs one of the random operations on `db`; `ids` is every caption inserted so far (erased ones too). */
async function applyOperation(db: Queryable, step: Operation, ids: string[], callers: readonly string[]) {
  const pick = (index: number) => ids[index % ids.length] as string
  if (step.op === 'insert') {
    ids.push(...(await insertRows(db, step.rows, callers)))
    return
  }
  if (step.op === 'prune') {
    await db.query(
      `DELETE FROM captions WHERE id IN (SELECT id FROM captions WHERE completed_at < $1
        AND status IN ('completed', 'failed', 'canceled') ORDER BY completed_at LIMIT 3)`,
      [new Date(FIRST_DAY + step.beforeDay * DAY_MS)],
    )
    return
  }
  if (ids.length === 0) return
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
    await db.query('UPDATE captions SET goapi_tasks = goapi_tasks + 1 WHERE id = $1', [pick(step.which)])
  if (step.op === 'erase') await db.query('DELETE FROM captions WHERE id = $1', [pick(step.which)])
}
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
          const ids: string[] = []
          for (const step of operations)
            await applyOperation(clients[step.on] as pg.Client, step, ids, callers)
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

const dayOf = (day: number) => utcDay(new Date(FIRST_DAY + day * DAY_MS))

/** caption_usage_days, row by row in key order. */
async function usageRows(db: Queryable, where: string, values: unknown[]) {
  const { rows } = await db.query(
    `SELECT caller, day::text, shard, captions, reused, failed, goapi_tasks FROM caption_usage_days
      WHERE ${where} ORDER BY caller, day, shard`,
    values,
  )
  return rows
}

/** The callers' days before `today` that are not one row in shard 0 with a count other than 0. */
async function unfoldedPastDays(db: Queryable, today: string) {
  const { rows } = await db.query(
    `SELECT caller, day::text, count(*)::int AS rows, array_agg(shard) AS shards FROM caption_usage_days
      WHERE day < $1::date GROUP BY caller, day
      HAVING count(*) > 1 OR bool_or(shard <> 0)
        OR bool_and(captions = 0 AND reused = 0 AND failed = 0 AND goapi_tasks = 0)`,
    [today],
  )
  return rows
}

/** usageTotals and counting each caption agree for every caller, over every range. */
async function expectTotalsAsCounted(db: pg.Pool, callers: readonly string[], ranges: [Date, Date][]) {
  for (const [a, b] of ranges) {
    const [from, to] = a <= b ? [a, b] : [b, a]
    for (const caller of callers) {
      const range = { caller, from, to }
      expect(await usageTotals(db, range), JSON.stringify(range)).toEqual(await countedOneByOne(db, range))
    }
  }
  const { daily, counted } = await dailyCountsAndCaptions(db)
  expect(daily).toEqual(counted)
}

describe('folding the per-day counts of past days', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let pool: pg.Pool
  let clients: pg.Client[]
  const callers = ['ann', 'ben', 'cat']
  const wholeDays: [Date, Date][] = [[new Date(FIRST_DAY - DAY_MS), new Date(FIRST_DAY + 6 * DAY_MS)]]

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

  const foldStep = fc.record({
    op: fc.constant('fold' as const),
    on: connection,
    today: fc.nat({ max: 5 }),
    chunkRows: fc.integer({ min: 1, max: 4 }),
  })

  it("when captions are inserted, changed, erased and pruned from several connections, with folds between, then a fold leaves each past day one row (none when it came to 0), today's rows as they were, and usageTotals as counting each caption", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(operation, foldStep), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(instant, instant), { minLength: 1, maxLength: 4 }),
        async (steps, todayIndex, chunkRows, ranges) => {
          await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
          const ids: string[] = []
          for (const step of steps) {
            const db = clients[step.on] as pg.Client
            if (step.op === 'fold') await foldPastUsageDays(db, dayOf(step.today), step)
            else await applyOperation(db, step, ids, callers)
          }
          const today = dayOf(todayIndex)
          const todayOn = await usageRows(pool, 'day >= $1::date', [today])
          await foldPastUsageDays(pool, today, { chunkRows })
          expect(await usageRows(pool, 'day >= $1::date', [today])).toEqual(todayOn)
          expect(await unfoldedPastDays(pool, today)).toEqual([])
          await expectTotalsAsCounted(pool, callers, [...wholeDays, ...ranges])
        },
      ),
      { numRuns: 60 },
    )
  })

  it('when writers on four pools insert, change and erase captions of past days and today while two folds run over and over, then nothing is lost or counted twice', async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const today = dayOf(3)
    const writers = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: database.url, max: 3 }))
    const folders = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 1 }))
    const folded = { rows: 0 }
    let writing = true
    const random = fc.sample(fc.nat({ max: 999 }), { numRuns: 4 * 3 * 60, seed: 20261207 })
    let next = 0
    const roll = (below: number) => (random[next++ % random.length] as number) % below
    const row = (): NewRow => ({
      caller: roll(3),
      day: roll(4),
      atMs: 3_600_000,
      status: (['queued', 'completed', 'failed'] as const)[roll(3)] as Status,
      reused: roll(4) === 0,
      goapiTasks: roll(3),
    })
    /** One connection's work: captions of its own, changed and erased, some in transactions over two days. */
    async function write(db: pg.Pool): Promise<void> {
      const mine: string[] = []
      for (let n = 0; n < 60; n++) {
        const client = await db.connect()
        try {
          await client.query('BEGIN')
          mine.push(...(await insertRows(client, [row(), row()], callers)))
          if (n % 2 === 0 && mine.length > 2) {
            const id = mine[roll(mine.length)]
            await client.query('UPDATE captions SET goapi_tasks = goapi_tasks + 1 WHERE id = $1', [id])
            await client.query("UPDATE captions SET status = 'failed' WHERE id = $1", [
              mine[roll(mine.length)],
            ])
          }
          await client.query('COMMIT')
        } finally {
          client.release()
        }
        if (n % 3 === 0)
          await db.query('DELETE FROM captions WHERE id = $1', [mine.splice(roll(mine.length), 1)[0]])
        if (n % 10 === 0)
          await db.query(
            `DELETE FROM captions WHERE id IN (SELECT id FROM captions WHERE completed_at < $1
              ORDER BY completed_at LIMIT 2 FOR UPDATE SKIP LOCKED)`,
            [new Date(FIRST_DAY + 2 * DAY_MS)],
          )
      }
    }
    async function fold(db: pg.Pool): Promise<void> {
      while (writing) {
        folded.rows += (await foldPastUsageDays(db, today, { chunkRows: 3 })).rows
      }
    }
    try {
      const folding = Promise.all(folders.map(fold))
      await Promise.all(writers.flatMap((writer) => [write(writer), write(writer), write(writer)]))
      writing = false
      await folding
    } finally {
      writing = false
      await Promise.all([...writers, ...folders].map((each) => each.end()))
    }
    expect(folded.rows).toBeGreaterThan(0)
    await foldPastUsageDays(pool, today)
    expect(await unfoldedPastDays(pool, today)).toEqual([])
    const ranges: [Date, Date][] = [
      [new Date(FIRST_DAY), new Date(FIRST_DAY + 3 * DAY_MS)],
      [new Date(FIRST_DAY + 3_600_000), new Date(FIRST_DAY + 3 * DAY_MS + 1)],
    ]
    await expectTotalsAsCounted(pool, callers, [...wholeDays, ...ranges])
  })

  it('when every caption of a past day was erased or pruned, from connections other than the ones that wrote them, then a fold leaves no row of that day', async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const [first, second, third] = clients as [pg.Client, pg.Client, pg.Client]
    const done = { caller: 0, atMs: 0, status: 'failed' as const, reused: true, goapiTasks: 2 }
    const gone = [
      ...(await insertRows(first, [{ ...done, day: 0 }], callers)),
      ...(await insertRows(second, [{ ...done, day: 0 }], callers)),
    ]
    await insertRows(first, [{ ...done, day: 1 }], callers)
    await third.query('DELETE FROM captions WHERE id = $1', [gone[0]])
    await first.query('DELETE FROM captions WHERE id = $1', [gone[1]])
    expect(await usageRows(pool, 'day = $1::date', [dayOf(0)])).toHaveLength(3)
    expect(await foldPastUsageDays(pool, dayOf(3))).toEqual({ rows: 4, emptyDays: 1 })
    expect(await usageRows(pool, 'true', [])).toEqual([
      { caller: 'ann', day: dayOf(1), shard: 0, captions: 1, reused: 1, failed: 1, goapi_tasks: 2 },
    ])
    await expectTotalsAsCounted(pool, callers, wholeDays)
  })

  it('when a writer holds a row of a past day, then a fold neither waits for it nor takes it, and the next fold does', async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const [writer, other] = clients as [pg.Client, pg.Client]
    const day0 = { caller: 0, day: 0, atMs: 0, status: 'completed' as const, reused: false, goapiTasks: 1 }
    const [held] = await insertRows(writer, [day0], callers)
    await insertRows(other, [day0, { ...day0, day: 1 }], callers)
    await writer.query('BEGIN')
    try {
      await writer.query('UPDATE captions SET goapi_tasks = 5 WHERE id = $1', [held])
      const started = performance.now()
      await foldPastUsageDays(pool, dayOf(3))
      expect(performance.now() - started).toBeLessThan(2_000)
      const writerPid = (await writer.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
      expect((await usageRows(pool, 'day = $1::date', [dayOf(0)])).map((r) => r.shard)).toEqual([
        0,
        writerPid,
      ])
    } finally {
      await writer.query('COMMIT')
    }
    await foldPastUsageDays(pool, dayOf(3))
    expect(await unfoldedPastDays(pool, dayOf(3))).toEqual([])
    expect(await usageRows(pool, 'day = $1::date', [dayOf(0)])).toEqual([
      { caller: 'ann', day: dayOf(0), shard: 0, captions: 2, reused: 0, failed: 0, goapi_tasks: 6 },
    ])
  })

  it('when a writer adds to a row that a fold is deleting, then it waits for the fold and writes a fresh row, which the next fold takes', async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const [fold, writer] = clients as [pg.Client, pg.Client]
    const day0 = { caller: 1, day: 0, atMs: 0, status: 'completed' as const, reused: false, goapiTasks: 1 }
    const ids = await insertRows(writer, [day0, day0, day0], callers)
    await fold.query('BEGIN')
    const writerPid = (await writer.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    let erased: Promise<unknown> | undefined
    try {
      expect((await foldPastUsageDays(fold, dayOf(1))).rows).toBe(1)
      erased = writer.query('DELETE FROM captions WHERE id = $1', [ids[0]])
      await eventually(async () => {
        const { rows } = await pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          [writerPid],
        )
        return rows.length > 0 ? true : undefined
      })
    } finally {
      await fold.query('COMMIT')
    }
    await erased
    expect(await usageRows(pool, 'true', [])).toEqual([
      { caller: 'ben', day: dayOf(0), shard: 0, captions: 3, reused: 0, failed: 0, goapi_tasks: 3 },
      { caller: 'ben', day: dayOf(0), shard: writerPid, captions: -1, reused: 0, failed: 0, goapi_tasks: -1 },
    ])
    await foldPastUsageDays(pool, dayOf(1))
    expect(await usageRows(pool, 'true', [])).toEqual([
      { caller: 'ben', day: dayOf(0), shard: 0, captions: 2, reused: 0, failed: 0, goapi_tasks: 2 },
    ])
    await expectTotalsAsCounted(pool, callers, wholeDays)
  })

  it("when the worker's first round runs with retention off, then it folds the past days and leaves today's rows", async () => {
    await pool.query('TRUNCATE captions, caption_usage_days, erased_usage CASCADE')
    const service = await startTestService({ databaseUrl: database.url, env: { RETENTION_DAYS: '0' } })
    const worker = createWorker(service.deps)
    try {
      const done = { caller: 2, atMs: 0, status: 'completed' as const, reused: false, goapiTasks: 1 }
      for (const client of clients)
        await insertRows(
          client,
          [
            { ...done, day: 0 },
            { ...done, day: 1 },
          ],
          callers,
        )
      const now = new Date()
      await Promise.all(clients.map((client) => seedCaption(client, { caller: 'cat', createdAt: now })))
      await worker.runOnce()
      await eventually(async () =>
        (await unfoldedPastDays(pool, utcDay(now))).length === 0 ? true : undefined,
      )
      expect(await usageRows(pool, 'day < $1::date', [utcDay(now)])).toHaveLength(2)
      expect(await usageRows(pool, 'day = $1::date', [utcDay(now)])).toHaveLength(clients.length)
      await expectTotalsAsCounted(pool, callers, wholeDays)
    } finally {
      await worker.stop(5_000)
      await service.close()
    }
  })
})

describe('erased_usage, the rows every deleting statement shares', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let pool: pg.Pool
  beforeAll(async () => {
    database = await createTestDatabase()
    pool = new pg.Pool({ connectionString: database.url, max: 4 })
  })
  afterAll(async () => {
    await pool?.end()
    await database?.drop()
  })

  it('when a statement deletes captions of several days, then it takes their rows in (caller, day) order, whatever its plan groups by', async () => {
    const days = [0, 1, 2, 3, 4, 5]
    const callers = ['ann']
    await pool.query(
      `INSERT INTO erased_usage (caller, day) SELECT 'ann', $1::date + n FROM generate_series(0, 5) AS n`,
      [dayOf(0)],
    )
    // A backend whose plan groups by hash (its cached plan may, where another's sorts).
    const deleter = new pg.Client({ connectionString: database.url, options: '-c enable_sort=off' })
    const holder = new pg.Client({ connectionString: database.url })
    await Promise.all([deleter.connect(), holder.connect()])
    const deleterPid = (await deleter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    const takenOutOfOrder: string[] = []
    try {
      for (const [i, first] of days.entries()) {
        for (const second of days.slice(i + 1)) {
          const ids = await insertRows(
            pool,
            [first, second].map((day) => ({
              caller: 0,
              day,
              atMs: 0,
              status: 'completed',
              reused: false,
              goapiTasks: 1,
            })),
            callers,
          )
          // The first day's row is held elsewhere: the deleter waits for it, holding what it took before.
          await holder.query('BEGIN')
          await holder.query(`SELECT 1 FROM erased_usage WHERE caller = 'ann' AND day = $1 FOR UPDATE`, [
            dayOf(first),
          ])
          const deleting = deleter.query('DELETE FROM captions WHERE id = ANY($1::uuid[])', [ids])
          await eventually(async () => {
            const { rows } = await pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
              [deleterPid],
            )
            return rows.length > 0 ? true : undefined
          })
          const probe = await pool.connect()
          try {
            await probe.query('BEGIN')
            await probe.query(
              `SELECT 1 FROM erased_usage WHERE caller = 'ann' AND day = $1 FOR UPDATE NOWAIT`,
              [dayOf(second)],
            )
          } catch (error) {
            if ((error as { code?: string }).code !== '55P03') throw error
            takenOutOfOrder.push(`${dayOf(second)} before ${dayOf(first)}`)
          } finally {
            await probe.query('ROLLBACK')
            probe.release()
          }
          await holder.query('ROLLBACK')
          await deleting
        }
      }
    } finally {
      await Promise.all([deleter.end(), holder.end()])
    }
    expect(takenOutOfOrder).toEqual([])
    const { rows } = await pool.query<{ captions: number }>(
      `SELECT sum(captions)::int AS captions FROM erased_usage WHERE caller = 'ann'`,
    )
    expect(rows[0]?.captions).toBe(2 * 15)
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
