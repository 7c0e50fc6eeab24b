import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../../src/work/worker.js'
import { authEnv, bearer, uniqueImageUrl, writeCounts } from '../helpers/callers.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

describe('POST /batches with dryRun', () => {
  let service: TestService
  const known = uniqueImageUrl('dry-run-known')

  const post = (caller: 'alice' | 'bob' | 'carol', payload: object, headers: Record<string, string> = {}) =>
    service.app.inject({
      method: 'POST',
      url: '/batches',
      payload,
      headers: { ...bearer(caller), ...headers },
    })

  /** Everything a dry run must leave alone: captions, keys, GoAPI tasks, batches and budget holds. */
  const everything = async () => ({
    ...(await writeCounts(service)),
    batches: await service.db.batch.count(),
    spend: await service.db.callerSpend.findMany({ orderBy: [{ caller: 'asc' }, { day: 'asc' }] }),
  })

  beforeAll(async () => {
    service = await startTestService({
      env: {
        ...authEnv(['alice', 'bob', 'carol']),
        CALLER_BUDGETS: 'alice:0.05,carol:0.03',
        WORK_INTERVAL_MS: '50',
      },
    })
    // alice has one caption of `known` completed: a batch of it would reuse its text.
    const worker = createWorker(service.deps)
    worker.start()
    try {
      const created = await service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: { imageUrl: known },
        headers: bearer('alice'),
      })
      expect(created.statusCode).toBe(202)
      await eventually(async () => {
        const caption = (
          await service.app.inject({ url: `/captions/${created.json().id}`, headers: bearer('alice') })
        ).json()
        return caption.status === 'completed' ? caption : undefined
      })
    } finally {
      await worker.stop(1_000)
    }
  })
  afterAll(async () => {
    await service.close()
  })

  it('when a batch is dry run, then 200 quotes its new tasks, reuse, cost and budget, and nothing is written, held or sent', async () => {
    const repeated = uniqueImageUrl('dry-run')
    const before = await everything()
    const reply = await post('alice', {
      dryRun: true,
      items: [
        { imageUrl: known },
        { imageUrl: repeated },
        { imageUrl: repeated },
        { imageUrl: uniqueImageUrl('dry-run') },
      ],
    })
    expect(reply.statusCode).toBe(200)
    expect(reply.headers.location).toBeUndefined()
    // One item reuses the completed caption; the repeat waits for its first item: two new tasks.
    expect(reply.json()).toEqual({
      dryRun: true,
      items: 4,
      captions: 4,
      newTasks: 2,
      reused: 1,
      costUsd: 0.02,
      budget: { limitUsd: 0.05, spentUsd: 0.01, remainingUsd: 0.04, fits: true },
    })
    expect(await everything()).toEqual(before)
  })

  it('when a dry run says the batch does not fit, then the real request is refused with 402, and when it fits, accepted', async () => {
    const over = { items: Array.from({ length: 4 }, () => ({ imageUrl: uniqueImageUrl('dry-run-over') })) }
    const quote = await post('carol', { ...over, dryRun: true })
    expect(quote.json()).toMatchObject({
      newTasks: 4,
      costUsd: 0.04,
      budget: { limitUsd: 0.03, spentUsd: 0, remainingUsd: 0.03, fits: false },
    })
    expectErrorReply(await post('carol', over), 402, 'budget_exceeded')
    const fitting = { items: over.items.slice(0, 3) }
    expect((await post('carol', { ...fitting, dryRun: true })).json()).toMatchObject({
      budget: { fits: true },
    })
    expect((await post('carol', fitting)).statusCode).toBe(202)
    // Now spent to the cent: the next quote says so.
    expect((await post('carol', { ...fitting, dryRun: true })).json()).toMatchObject({
      budget: { limitUsd: 0.03, spentUsd: 0.03, remainingUsd: 0, fits: false },
    })
  })

  it('when a batch has two prompt styles, then every item counts once per style, and only the style already captioned is reused', async () => {
    const repeated = uniqueImageUrl('dry-run-styles')
    const before = await everything()
    const reply = await post('alice', {
      dryRun: true,
      promptStyles: ['Descriptive', 'Booru-like tag list'],
      items: [{ imageUrl: known }, { imageUrl: repeated }, { imageUrl: repeated }],
    })
    expect(reply.statusCode).toBe(200)
    // known's Descriptive caption is reused; its tag list is new; the repeat waits in each style.
    expect(reply.json()).toMatchObject({
      items: 3,
      captions: 6,
      newTasks: 3,
      reused: 1,
      costUsd: 0.03,
      budget: { limitUsd: 0.05, remainingUsd: expect.any(Number), fits: expect.any(Boolean) },
    })
    expect(await everything()).toEqual(before)
  })

  it("when the caller has no budget, then budget is null, and another caller's captions are not reused", async () => {
    const reply = await post('bob', { dryRun: true, items: [{ imageUrl: known }], reuse: true })
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({
      dryRun: true,
      items: 1,
      captions: 1,
      newTasks: 1,
      reused: 0,
      costUsd: 0.01,
      budget: null,
    })
  })

  it('when reuse is off, then every item is quoted as a new task', async () => {
    const reply = await post('alice', {
      dryRun: true,
      reuse: false,
      items: [{ imageUrl: known }, { imageUrl: known }],
    })
    expect(reply.json()).toMatchObject({ items: 2, newTasks: 2, reused: 0, costUsd: 0.02 })
  })

  it('when a dry run breaks the rules of the real request, then it is refused the same way, and nothing is written', async () => {
    const before = await everything()
    const bad = { items: [{ imageUrl: uniqueImageUrl('dry-run') }, { imageUrl: 'ftp://example.com/a.png' }] }
    const real = await post('alice', bad)
    const dry = await post('alice', { ...bad, dryRun: true })
    expect(dry.statusCode).toBe(real.statusCode)
    expect(dry.json()).toEqual(real.json())
    expectErrorReply(await post('alice', { ...bad, dryRun: 'yes' }), 400)
    expectErrorReply(
      await post('alice', { dryRun: true, items: [{ imageUrl: known }] }, { 'idempotency-key': '' }),
      400,
    )
    expect(await everything()).toEqual(before)
  })

  it('when a dry run carries an Idempotency-Key, then the key is not used up: the real request with it is accepted', async () => {
    const body = { items: [{ imageUrl: uniqueImageUrl('dry-run-key') }] }
    const headers = { 'idempotency-key': 'dry-run-then-real-0001' }
    expect((await post('bob', { ...body, dryRun: true }, headers)).statusCode).toBe(200)
    const real = await post('bob', body, headers)
    expect(real.statusCode).toBe(202)
    expect(real.headers['idempotent-replayed']).toBeUndefined()
  })
})
