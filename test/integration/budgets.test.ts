import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../../src/work/worker.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startSharedSimulator, startTestService, type TestService } from '../helpers/service.js'

const BUDGETS = { ...authEnv(['alice', 'bob', 'carol']), CALLER_BUDGETS: 'alice:0.50,bob:0.05,carol:0.02' }

function batchOf(size: number, tag: string) {
  return { items: Array.from({ length: size }, () => ({ imageUrl: uniqueImageUrl(tag) })) }
}

describe('daily budgets', () => {
  let first: TestService
  let second: TestService
  beforeAll(async () => {
    const simulator = await startSharedSimulator({ dropWebhookRate: 1 })
    first = await startTestService({ env: BUDGETS, simulator })
    second = await startTestService({ env: BUDGETS, simulator, databaseUrl: first.databaseUrl })
  })
  afterAll(async () => {
    await second.close()
    await first.close()
    await first.simulator.close()
  })

  it('when concurrent batches race for one budget on two replicas, then the accepted ones never pass it and the others get 402', async () => {
    // 12 batches of 7 items ask $0.84 of a $0.50 budget: at most 7 fit.
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        (index % 2 === 0 ? first : second).app.inject({
          method: 'POST',
          url: '/batches',
          payload: batchOf(7, 'race'),
          headers: bearer('alice'),
        }),
      ),
    )
    const accepted = replies.filter((reply) => reply.statusCode === 202)
    const refused = replies.filter((reply) => reply.statusCode !== 202)
    expect(accepted).toHaveLength(7)
    for (const reply of refused) {
      const body = expectErrorReply(reply, 402, 'budget_exceeded')
      expect(body.message).toMatch(
        /^daily budget of \$0\.50 for caller "alice" exceeded: \$0\.49 spent today, \$0\.07 asked$/,
      )
    }
    const captions = await first.db.caption.findMany({ where: { caller: 'alice' } })
    expect(captions).toHaveLength(49)
    expect(captions.every((caption) => caption.reservedCents === 1)).toBe(true)
    const spend = await first.db.callerSpend.findMany({ where: { caller: 'alice' } })
    expect(spend.map((row) => row.cents)).toEqual([49])
  })

  it('when work reaches the budget exactly, then it is accepted, and the next cent is refused naming what was spent and asked', async () => {
    const post = (url: string, payload: object) =>
      first.app.inject({ method: 'POST', url, payload, headers: bearer('bob') })
    expect((await post('/batches', batchOf(4, 'exact'))).statusCode).toBe(202)
    expect((await post('/captions', { imageUrl: uniqueImageUrl('exact') })).statusCode).toBe(202)
    const over = expectErrorReply(await post('/captions', { imageUrl: uniqueImageUrl('exact') }), 402)
    expect(over.message).toBe(
      'daily budget of $0.05 for caller "bob" exceeded: $0.05 spent today, $0.01 asked',
    )
    const batch = expectErrorReply(await post('/batches', batchOf(2, 'exact')), 402, 'budget_exceeded')
    expect(batch.message).toContain('$0.02 asked')
    expect(await first.db.caption.count({ where: { caller: 'bob' } })).toBe(5)
    const usage = (await first.app.inject({ url: '/usage', headers: bearer('bob') })).json()
    expect(usage).toMatchObject({
      captions: 5,
      budget: { dailyUsd: 0.05, spentTodayUsd: 0.05, remainingUsd: 0 },
    })
  })

  it('when a caption fails before GoAPI took it, then its cent is given back', async () => {
    first.simulator.faults.createFailureRate = 1
    first.simulator.faults.createFailureStatus = 400
    try {
      const post = () =>
        first.app.inject({
          method: 'POST',
          url: '/captions',
          payload: { imageUrl: uniqueImageUrl('refund') },
          headers: bearer('carol'),
        })
      for (let index = 0; index < 3; index++) {
        const reply = await post()
        expect(reply.json()).toMatchObject({
          status: 'failed',
          error: { code: 'goapi_rejected' },
          costUsd: 0,
        })
      }
    } finally {
      first.simulator.faults.createFailureRate = 0
    }
    const spend = await first.db.callerSpend.findMany({ where: { caller: 'carol' } })
    expect(spend.map((row) => row.cents)).toEqual([0])
  })
})

describe('budgets and reuse', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      env: { ...authEnv(['dave']), CALLER_BUDGETS: 'dave:0.03', WORK_INTERVAL_MS: '50' },
    })
  })
  afterAll(async () => {
    await service.close()
  })

  it('when a batch repeats images already captioned, then only the new ones are held, and holds of repeats are given back once reused', async () => {
    const worker = createWorker(service.deps)
    worker.start()
    try {
      const post = (payload: object) =>
        service.app.inject({ method: 'POST', url: '/batches', payload, headers: bearer('dave') })
      const known = uniqueImageUrl('budget-reuse')
      const firstBatch = (await post({ items: [{ imageUrl: known }, { imageUrl: known }] })).json()
      await eventually(async () => {
        const batch = (
          await service.app.inject({ url: `/batches/${firstBatch.id}`, headers: bearer('dave') })
        ).json()
        return batch.status === 'completed' ? batch : undefined
      })
      // One task paid; the repeat's hold was given back when it took the first one's text.
      expect((await service.db.callerSpend.findFirst({ where: { caller: 'dave' } }))?.cents).toBe(1)
      const second = await post({
        items: [{ imageUrl: known }, { imageUrl: uniqueImageUrl('budget-reuse') }],
      })
      expect(second.statusCode).toBe(202)
      expect(second.json()).toMatchObject({ reused: 1 })
      expect((await service.db.callerSpend.findFirst({ where: { caller: 'dave' } }))?.cents).toBe(2)
    } finally {
      await worker.stop(1_000)
    }
  })
})
