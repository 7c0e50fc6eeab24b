import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker, type Worker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

describe('retrying a failed caption', () => {
  let service: TestService
  let receiver: CallbackReceiver
  let worker: Worker
  beforeAll(async () => {
    receiver = await startCallbackReceiver()
    service = await startTestService({
      env: {
        ...authEnv(['alice', 'bob', 'carol']),
        CALLER_BUDGETS: 'alice:0.02,carol:0.04',
        WORK_INTERVAL_MS: '50',
      },
    })
    worker = createWorker(service.deps)
    worker.start()
  })
  afterAll(async () => {
    await worker.stop(1_000)
    await service.simulator.close()
    await service.close()
    await receiver.close()
  })

  const post = (url: string, payload?: object, caller: 'alice' | 'bob' = 'alice') =>
    service.app.inject({ method: 'POST', url, headers: bearer(caller), ...(payload ? { payload } : {}) })
  const read = async (id: string) =>
    (await service.app.inject({ url: `/captions/${id}`, headers: bearer('alice') })).json()
  const spent = async () => (await service.db.callerSpend.findFirst({ where: { caller: 'alice' } }))?.cents

  async function failedCaption(name: string): Promise<string> {
    service.simulator.faults.createFailureRate = 1
    service.simulator.faults.createFailureStatus = 400
    try {
      const reply = await post('/captions', {
        imageUrl: uniqueImageUrl('retry'),
        callbackUrl: receiver.urlFor(name),
      })
      expect(reply.json()).toMatchObject({ status: 'failed', error: { code: 'goapi_rejected' }, retries: 0 })
      return reply.json().id
    } finally {
      service.simulator.faults.createFailureRate = 0
    }
  }

  it('when a failed caption is retried under the budget, then it keeps its id, gets a new task, counts the retry and sends a new event', async () => {
    const id = await failedCaption('first')
    const failedEvent = await eventually(async () => receiver.received('first')[0])
    expect((failedEvent.body as { type: string }).type).toBe('caption.failed')
    expect(await spent()).toBe(0)

    const reply = await post(`/captions/${id}/retry`)
    expect(reply.statusCode).toBe(202)
    expect(reply.headers.location).toBe(`/captions/${id}`)
    expect(reply.json()).toMatchObject({ id, status: 'queued', retries: 1, error: null, goapiTaskId: null })
    expect(await spent()).toBe(1)

    const done = await eventually(async () => {
      const caption = await read(id)
      return caption.status === 'completed' ? caption : undefined
    })
    expect(done).toMatchObject({ id, retries: 1, costUsd: 0.01, error: null })
    expect(done.goapiTaskId).toEqual(expect.any(String))
    const completedEvent = await eventually(async () => receiver.received('first')[1])
    expect((completedEvent.body as { type: string }).type).toBe('caption.completed')
    expect(completedEvent.headers['webhook-id']).not.toBe(failedEvent.headers['webhook-id'])
    const events = await service.db.callbackEvent.findMany({
      where: { captionId: id },
      orderBy: { createdAt: 'asc' },
    })
    expect(events.map((event) => [event.type, event.retiredAt === null])).toEqual([
      ['caption.failed', false],
      ['caption.completed', true],
    ])
    expect(await spent()).toBe(1)
  })

  it('when a retry would pass the budget, then it is refused with 402 and nothing changes', async () => {
    const id = await failedCaption('over')
    // The budget of $0.02: one cent spent by the first test, one held now by an open caption.
    service.simulator.faults.dropWebhookRate = 1
    service.simulator.faults.neverFinishRate = 1
    try {
      const open = await post('/captions', { imageUrl: uniqueImageUrl('retry') })
      expect(open.statusCode).toBe(202)
      const fields = async () => {
        const { status, retries, reservedCents, errorCode, nextAttemptAt, submitState } =
          await service.db.caption.findUniqueOrThrow({ where: { id } })
        return { status, retries, reservedCents, errorCode, nextAttemptAt, submitState }
      }
      const before = await fields()
      expect(before).toMatchObject({ status: 'failed', retries: 0, errorCode: 'goapi_rejected' })
      const refused = expectErrorReply(await post(`/captions/${id}/retry`), 402, 'budget_exceeded')
      expect(refused.message).toBe(
        'daily budget of $0.02 for caller "alice" exceeded: $0.02 spent today, $0.01 asked',
      )
      expect(await fields()).toEqual(before)
      expect(await spent()).toBe(2)
    } finally {
      service.simulator.faults.dropWebhookRate = 0
      service.simulator.faults.neverFinishRate = 0
    }
  })

  it("when the caption is not failed or not the caller's, then 409 caption_not_failed or 404", async () => {
    const ids = (await service.db.caption.findMany({ where: { caller: 'alice' } })).map((c) => c)
    const notFailed = ids.find((caption) => caption.status !== 'failed')
    expect(notFailed).toBeDefined()
    const conflict = expectErrorReply(
      await post(`/captions/${notFailed?.id}/retry`),
      409,
      'caption_not_failed',
    )
    expect(conflict.message).toBe(
      `caption ${notFailed?.id} is ${notFailed?.status}: only a failed caption can be retried`,
    )
    const failed = ids.find((caption) => caption.status === 'failed')
    expectErrorReply(await post(`/captions/${failed?.id}/retry`, undefined, 'bob'), 404, 'not_found')
    expect((await service.db.caption.findUniqueOrThrow({ where: { id: failed?.id } })).retries).toBe(0)
  })

  it("when a late webhook of the earlier try's task arrives after a retry, then it is acknowledged and changes nothing", async () => {
    const readAs = async (id: string) =>
      (await service.app.inject({ url: `/captions/${id}`, headers: bearer('bob') })).json()
    service.simulator.faults.failTaskRate = 1
    let id: string
    let earlierTask: string
    try {
      id = (await post('/captions', { imageUrl: uniqueImageUrl('retry') }, 'bob')).json().id
      const failed = await eventually(async () => {
        const caption = await readAs(id)
        return caption.status === 'failed' ? caption : undefined
      })
      earlierTask = failed.goapiTaskId
      expect(earlierTask).toEqual(expect.any(String))
    } finally {
      service.simulator.faults.failTaskRate = 0
    }
    // GoAPI refuses the new try's create for now: the caption waits queued, without a task.
    service.simulator.faults.createFailureRate = 1
    service.simulator.faults.createFailureStatus = 503
    try {
      expect((await post(`/captions/${id}/retry`, undefined, 'bob')).statusCode).toBe(202)
      await eventually(async () => {
        const row = await service.db.caption.findUniqueOrThrow({ where: { id } })
        return row.submitState === 'refused' ? row : undefined
      })
      const late = await service.app.inject(
        goapiDelivery({ captionId: id, taskId: earlierTask, status: 'failed' }),
      )
      expect(late.statusCode).toBe(200)
      const after = await service.db.caption.findUniqueOrThrow({ where: { id } })
      expect(after).toMatchObject({
        status: 'queued',
        goapiTaskId: null,
        errorCode: null,
        retries: 1,
        earlierTaskIds: [earlierTask],
        goapiTasks: 1,
      })
    } finally {
      service.simulator.faults.createFailureRate = 0
    }
    const done = await eventually(async () => {
      const caption = await readAs(id)
      return caption.status === 'completed' ? caption : undefined
    }, 10_000)
    expect(done.goapiTaskId).not.toBe(earlierTask)
  })

  describe('of a batch', () => {
    const asCarol = (method: 'GET' | 'POST', url: string, payload?: object) =>
      service.app.inject({ method, url, headers: bearer('carol'), ...(payload ? { payload } : {}) })
    const carolSpent = async () =>
      (await service.db.callerSpend.findFirst({ where: { caller: 'carol' } }))?.cents
    const items = async (batchId: string) =>
      service.db.caption.findMany({ where: { batchId }, orderBy: { itemIndex: 'asc' } })

    async function failedBatch(): Promise<string> {
      service.simulator.faults.createFailureRate = 1
      service.simulator.faults.createFailureStatus = 400
      try {
        const payload = {
          items: [{ imageUrl: uniqueImageUrl('retry') }, { imageUrl: uniqueImageUrl('retry') }],
        }
        const batch = (await asCarol('POST', '/batches', payload)).json()
        await eventually(async () => {
          const read = (await asCarol('GET', `/batches/${batch.id}`)).json()
          return read.status === 'completed' ? read : undefined
        })
        expect((await items(batch.id)).map((item) => item.status)).toEqual(['failed', 'failed'])
        return batch.id
      } finally {
        service.simulator.faults.createFailureRate = 0
      }
    }

    it('when a batch with failed items is retried, then every failed item is queued again and the batch completes again', async () => {
      const id = await failedBatch()
      expect(await carolSpent()).toBe(0)
      const reply = await asCarol('POST', `/batches/${id}/retry`)
      expect(reply.statusCode).toBe(202)
      expect(reply.json()).toEqual({ retried: 2 })
      expect(await carolSpent()).toBe(2)
      const batch = await eventually(async () => {
        const read = (await asCarol('GET', `/batches/${id}`)).json()
        return read.status === 'completed' ? read : undefined
      })
      expect(batch.counts).toMatchObject({ completed: 2, failed: 0 })
      expect((await items(id)).map((item) => [item.status, item.retries])).toEqual([
        ['completed', 1],
        ['completed', 1],
      ])
      expect((await asCarol('POST', `/batches/${id}/retry`)).json()).toEqual({ retried: 0 })
    })

    it('when retrying the failed items would pass the budget, then 402 and none is retried; another caller gets 404', async () => {
      const id = await failedBatch()
      // The budget of $0.04: two cents spent by the first test, one held now by an open caption.
      service.simulator.faults.dropWebhookRate = 1
      service.simulator.faults.neverFinishRate = 1
      try {
        const open = await asCarol('POST', '/captions', { imageUrl: uniqueImageUrl('retry') })
        expect(open.statusCode).toBe(202)
      } finally {
        service.simulator.faults.dropWebhookRate = 0
        service.simulator.faults.neverFinishRate = 0
      }
      expect(await carolSpent()).toBe(3)
      const refused = expectErrorReply(await asCarol('POST', `/batches/${id}/retry`), 402, 'budget_exceeded')
      expect(refused.message).toBe(
        'daily budget of $0.04 for caller "carol" exceeded: $0.03 spent today, $0.02 asked',
      )
      expect((await items(id)).map((item) => [item.status, item.retries])).toEqual([
        ['failed', 0],
        ['failed', 0],
      ])
      expect(await carolSpent()).toBe(3)
      expectErrorReply(await post(`/batches/${id}/retry`, undefined, 'bob'), 404, 'not_found')
      expect((await asCarol('GET', `/batches/${id}`)).json().status).toBe('completed')
    })
  })
})
