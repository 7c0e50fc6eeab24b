import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobDeps } from '../../src/work/job.js'
import { retention } from '../../src/work/jobs/retention.js'
import { PRUNE_CHUNK_ROWS, pruneFinished } from '../../src/work/retention.repository.js'
import { authEnv, bearer, postAs, uniqueImageUrl } from '../helpers/callers.js'
import { expectErrorReply } from '../helpers/http.js'
import { finishItems, seedBatch } from '../helpers/seed-batch.js'
import { seedCaption } from '../helpers/seed-captions.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

const DAY_MS = 24 * 60 * 60 * 1000

describe('erasing captions and batches, and pruning finished work', () => {
  let service: TestService

  beforeAll(async () => {
    service = await startTestService({ env: { ...authEnv(), CALLER_BUDGETS: 'carol:5' } })
  })
  afterAll(async () => {
    await service?.close()
  })

  const remove = (caller: 'alice' | 'bob' | 'carol', url: string) =>
    service.app.inject({ method: 'DELETE', url, headers: bearer(caller) })

  /** Every row of every table of the service, as text: what must not hold an erased thing anywhere. */
  async function everyTable(): Promise<string> {
    const { rows } = await service.deps.sql.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    )
    expect(rows.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        'captions',
        'batches',
        'callback_events',
        'callback_deliveries',
        'idempotency_keys',
      ]),
    )
    const dumps = await Promise.all(
      rows.map(async ({ name }) => {
        const dump = await service.deps.sql.query(`SELECT * FROM "${name}"`)
        return JSON.stringify(dump.rows)
      }),
    )
    return dumps.join('\n')
  }

  async function seedEvent(subject: { captionId?: string; batchId?: string }, body: string): Promise<void> {
    const eventId = randomUUID()
    await service.deps.sql.query(
      `INSERT INTO callback_events (id, caption_id, batch_id, type, body, created_at)
        VALUES ($1, $2, $3, 'caption.completed', $4, now())`,
      [eventId, subject.captionId ?? null, subject.batchId ?? null, body],
    )
    await service.deps.sql.query(
      `INSERT INTO callback_deliveries (id, event_id, attempt, attempted_at, url, status_code, outcome)
        VALUES ($1, $2, 1, now(), 'http://127.0.0.1:9/hook', 500, 'failed')`,
      [randomUUID(), eventId],
    )
  }

  const usageOf = async (caller: 'alice' | 'carol' | 'bob', query = '') =>
    (await service.app.inject({ method: 'GET', url: `/usage${query}`, headers: bearer(caller) })).json()

  it('when a caller erases its caption, then GET answers 404, a second erase 404, and no table holds anything of it while its usage stays counted', async () => {
    const imageUrl = uniqueImageUrl('erase')
    const created = await postAs(
      service,
      'alice',
      { imageUrl, metadata: { secret: 'alice-private-metadata' } },
      { 'idempotency-key': `erase-${randomUUID()}` },
    )
    expect(created.statusCode).toBe(202)
    const { id } = created.json() as { id: string }
    await seedEvent({ captionId: id }, JSON.stringify({ imageUrl }))
    const before = await usageOf('alice')
    expect(before.goapiTasks).toBeGreaterThan(0)
    expect(await everyTable()).toContain(imageUrl)

    const erased = await remove('alice', `/captions/${id}`)
    expect(erased.statusCode).toBe(204)
    expect(erased.body).toBe('')
    expectErrorReply(
      await service.app.inject({ method: 'GET', url: `/captions/${id}`, headers: bearer('alice') }),
      404,
      'not_found',
    )
    expectErrorReply(await remove('alice', `/captions/${id}`), 404, 'not_found')

    const tables = await everyTable()
    expect(tables).not.toContain(id)
    expect(tables).not.toContain(imageUrl)
    expect(tables).not.toContain('alice-private-metadata')
    expect(await usageOf('alice')).toEqual(before)
  })

  it("when a caption still at GoAPI is erased, then GoAPI's late webhooks are acknowledged and bring nothing back", async () => {
    const imageUrl = uniqueImageUrl('in-flight')
    const created = await postAs(service, 'alice', { imageUrl })
    const { id, goapiTaskId } = created.json() as { id: string; goapiTaskId: string }
    expect(goapiTaskId).toBeTruthy()
    expect((await remove('alice', `/captions/${id}`)).statusCode).toBe(204)

    // The simulator finishes the task and posts its webhooks: acknowledged as an unknown task.
    await eventually(async () => {
      const values = (await service.deps.metrics.webhooks.get()).values
      return values.some((value) => value.labels.outcome === 'unknown_task' && value.value > 0) || undefined
    })
    const tables = await everyTable()
    expect(tables).not.toContain(id)
    expect(tables).not.toContain(imageUrl)
  })

  it("when another caller erases a caption or batch, then it answers 404 and the owner's stays", async () => {
    const id = await seedCaption(service.deps.sql, { caller: 'alice', createdAt: new Date() })
    const batch = await seedBatch(service.deps.sql, { caller: 'alice', items: 2, now: new Date() })
    expectErrorReply(await remove('bob', `/captions/${id}`), 404, 'not_found')
    expectErrorReply(await remove('bob', `/batches/${batch.id}`), 404, 'not_found')
    expect(
      (await service.app.inject({ method: 'GET', url: `/captions/${id}`, headers: bearer('alice') }))
        .statusCode,
    ).toBe(200)
    expect(
      (await service.app.inject({ method: 'GET', url: `/batches/${batch.id}`, headers: bearer('alice') }))
        .statusCode,
    ).toBe(200)
  })

  it('when a caller erases a batch, then the batch, its items, events and deliveries are gone and its usage stays counted', async () => {
    const now = new Date()
    const batch = await seedBatch(service.deps.sql, {
      caller: 'bob',
      items: 3,
      now,
      callbackUrl: 'http://127.0.0.1:9/hook',
    })
    await finishItems(service.deps.sql, batch.itemIds.slice(0, 2), { at: now })
    await seedEvent({ captionId: batch.itemIds[0] }, '{"item":"first"}')
    await seedEvent({ batchId: batch.id }, '{"batch":"event"}')
    const before = await usageOf('bob')
    expect(before.captions).toBeGreaterThanOrEqual(3)

    expect((await remove('bob', `/batches/${batch.id}`)).statusCode).toBe(204)
    expectErrorReply(
      await service.app.inject({ method: 'GET', url: `/batches/${batch.id}`, headers: bearer('bob') }),
      404,
      'not_found',
    )
    expectErrorReply(await remove('bob', `/batches/${batch.id}`), 404, 'not_found')
    const tables = await everyTable()
    for (const gone of [batch.id, ...batch.itemIds, '{"item":"first"}', '{"batch":"event"}'])
      expect(tables).not.toContain(gone)
    const left = await service.deps.sql.query(
      `SELECT (SELECT count(*) FROM captions WHERE caller = 'bob')::int AS captions,
        (SELECT count(*) FROM batches WHERE caller = 'bob')::int AS batches`,
    )
    expect(left.rows[0]).toEqual({ captions: 0, batches: 0 })
    expect(await usageOf('bob')).toEqual(before)
  })

  it('when a caption GoAPI never had is erased, then its budget hold is given back; one GoAPI may bill keeps it', async () => {
    const now = new Date()
    const day = now.toISOString().slice(0, 10)
    const queued = await seedCaption(service.deps.sql, {
      caller: 'carol',
      createdAt: now,
      status: 'queued',
      reservedCents: 1,
    })
    const sent = await seedCaption(service.deps.sql, {
      caller: 'carol',
      createdAt: now,
      status: 'queued',
      reservedCents: 1,
    })
    await service.deps.sql.query(`UPDATE captions SET submit_state = 'in_flight' WHERE id = $1`, [sent])
    await service.deps.sql.query(`INSERT INTO caller_spend (caller, day, cents) VALUES ('carol', $1, 2)`, [
      day,
    ])
    const spent = async () =>
      (
        await service.deps.sql.query<{ cents: number }>(
          `SELECT cents FROM caller_spend WHERE caller = 'carol'`,
        )
      ).rows[0]?.cents

    expect((await remove('carol', `/captions/${queued}`)).statusCode).toBe(204)
    expect(await spent()).toBe(1)
    expect((await remove('carol', `/captions/${sent}`)).statusCode).toBe(204)
    expect(await spent()).toBe(1)
  })

  it('when an open item of a batch is erased alone, then the batch has one item less and completes without it', async () => {
    const batch = await seedBatch(service.deps.sql, { caller: 'alice', items: 2, now: new Date() })
    await finishItems(service.deps.sql, [batch.itemIds[0] as string], { at: new Date() })
    expect((await remove('alice', `/captions/${batch.itemIds[1]}`)).statusCode).toBe(204)
    const read = (
      await service.app.inject({ method: 'GET', url: `/batches/${batch.id}`, headers: bearer('alice') })
    ).json()
    expect(read).toMatchObject({ total: 1 })
    expect(read.completedAt).not.toBeNull()
  })

  describe('retention', () => {
    const jobDeps = (retentionDays: number): JobDeps =>
      ({
        ...service.deps,
        work: { ...service.deps.work, retentionMs: retentionDays * DAY_MS },
      }) as JobDeps
    const sweep = (retentionDays: number, now = new Date()) =>
      retention.claim(jobDeps(retentionDays), { owner: 'test', now, leaseUntil: now, limit: 10 })
    const exists = async (table: 'captions' | 'batches', id: string) =>
      (await service.deps.sql.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1

    it('when finished work is older than RETENTION_DAYS, then it goes in chunks with its events and deliveries, open and recent work stays, and usage is unchanged', async () => {
      const old = new Date(Date.now() - 100 * DAY_MS)
      const sql = service.deps.sql
      // A backlog of more than one chunk of old finished captions.
      const backlog = PRUNE_CHUNK_ROWS + 500
      await sql.query(
        `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption, created_at,
            updated_at, completed_at, goapi_tasks)
          SELECT gen_random_uuid(), 'dave', 'completed', 'https://images.example.com/old/' || n || '.png',
            'Descriptive', 'any', 'old', $1, $1, $1, 1 FROM generate_series(1, $2) AS n`,
        [old, backlog],
      )
      const oldFailed = await seedCaption(sql, {
        caller: 'dave',
        createdAt: old,
        status: 'failed',
        goapiTasks: 1,
      })
      await seedEvent({ captionId: oldFailed }, '{"old":"event"}')
      const oldOpen = await seedCaption(sql, {
        caller: 'dave',
        createdAt: old,
        status: 'processing',
        goapiTasks: 1,
      })
      const recent = await seedCaption(sql, { caller: 'dave', createdAt: new Date(), goapiTasks: 1 })
      const oldBatch = await seedBatch(sql, { caller: 'dave', items: 3, now: old })
      await finishItems(sql, oldBatch.itemIds, { at: old })
      await seedEvent({ batchId: oldBatch.id }, '{"batch":"old"}')
      const openBatch = await seedBatch(sql, { caller: 'dave', items: 2, now: old })
      await finishItems(sql, [openBatch.itemIds[0] as string], { at: old })
      const range = `?from=${old.toISOString().slice(0, 10)}&to=${new Date(Date.now() + DAY_MS).toISOString().slice(0, 10)}`
      const usageBefore = await service.app.inject({
        method: 'GET',
        url: `/usage${range}`,
        headers: { authorization: 'Bearer dave-token-Mf7aR1sL9cWq4PzG' },
      })
      const prunedBefore = structuredClone((await service.deps.metrics.pruned.get()).values)

      // Captions are created while the sweep runs.
      const [, created] = await Promise.all([
        sweep(90),
        postAs(service, 'alice', { imageUrl: uniqueImageUrl('during') }),
      ])
      expect(created.statusCode).toBe(202)

      expect(await exists('captions', oldFailed)).toBe(false)
      expect(await exists('batches', oldBatch.id)).toBe(false)
      for (const item of oldBatch.itemIds) expect(await exists('captions', item)).toBe(false)
      expect(await exists('captions', oldOpen)).toBe(true)
      expect(await exists('captions', recent)).toBe(true)
      expect(await exists('batches', openBatch.id)).toBe(true)
      expect(await exists('captions', openBatch.itemIds[0] as string)).toBe(true)
      const left = await sql.query(
        `SELECT count(*)::int AS n FROM captions WHERE caller = 'dave' AND completed_at < $1`,
        [new Date(Date.now() - 90 * DAY_MS)],
      )
      expect(left.rows[0].n).toBe(1) // the finished item of the batch still open
      const tables = await everyTable()
      expect(tables).not.toContain('{"old":"event"}')
      expect(tables).not.toContain('{"batch":"old"}')

      const usageAfter = await service.app.inject({
        method: 'GET',
        url: `/usage${range}`,
        headers: { authorization: 'Bearer dave-token-Mf7aR1sL9cWq4PzG' },
      })
      expect(usageAfter.json()).toEqual(usageBefore.json())

      const counted = (table: string, values: typeof prunedBefore) =>
        values.find((value) => value.labels.table === table)?.value ?? 0
      const prunedAfter = (await service.deps.metrics.pruned.get()).values
      expect(counted('captions', prunedAfter) - counted('captions', prunedBefore)).toBe(backlog + 1 + 3)
      expect(counted('batches', prunedAfter) - counted('batches', prunedBefore)).toBe(1)
      expect(counted('callback_events', prunedAfter) - counted('callback_events', prunedBefore)).toBe(2)
      expect(counted('callback_deliveries', prunedAfter) - counted('callback_deliveries', prunedBefore)).toBe(
        2,
      )
    })

    it('when RETENTION_DAYS is 0, then nothing is pruned, however old', async () => {
      const ancient = await seedCaption(service.deps.sql, {
        caller: 'dave',
        createdAt: new Date(Date.now() - 5000 * DAY_MS),
      })
      await sweep(0)
      expect(await exists('captions', ancient)).toBe(true)
    })

    it('when another replica is sweeping, then this one skips the sweep', async () => {
      const ancient = await seedCaption(service.deps.sql, {
        caller: 'dave',
        createdAt: new Date(Date.now() - 5000 * DAY_MS),
      })
      const other = await service.deps.sql.connect()
      try {
        await sweep(1) // takes the lock and releases it
        const again = await seedCaption(service.deps.sql, {
          caller: 'dave',
          createdAt: new Date(Date.now() - 5000 * DAY_MS),
        })
        // The other replica holds the sweep's lock while this one tries.
        const held = await pruneFinishedLocked(other, async () =>
          pruneFinished(service.deps.sql, new Date(), () => {}),
        )
        expect(held).toBeNull()
        expect(await exists('captions', again)).toBe(true)
        expect(await exists('captions', ancient)).toBe(false)
      } finally {
        other.release()
      }
    })
  })
})

/** Runs `work` while `client` holds the retention sweep's lock, as a sweeping replica would. */
async function pruneFinishedLocked<T>(
  client: { query: (text: string) => Promise<unknown> },
  work: () => Promise<T>,
): Promise<T> {
  await client.query(`SELECT pg_advisory_lock(${0x63617074_72657465n})`)
  try {
    return await work()
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${0x63617074_72657465n})`)
  }
}
