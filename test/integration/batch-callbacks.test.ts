import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_RETRY_DELAYS_MS } from '../../src/callbacks/schedule.js'
import { releaseAllLeases } from '../../src/work/work.repository.js'
import { createWorker, type Worker } from '../../src/work/worker.js'
import {
  type CallbackReceiver,
  type ReceivedCallback,
  startCallbackReceiver,
} from '../helpers/callback-receiver.js'
import { authEnv, bearer, type CallerName } from '../helpers/callers.js'
import { expectErrorReply } from '../helpers/http.js'
import { finishItems, seedBatch } from '../helpers/seed-batch.js'
import {
  eventually,
  manualClock,
  startTestService,
  TEST_CALLBACK_SECRETS,
  type TestService,
} from '../helpers/service.js'

/** A service, a worker run by hand, a receiver, and the steps every test here takes. */
function batchCallbackHarness(options: { env?: Record<string, string>; caller?: CallerName } = {}) {
  // Near the wall clock: receivers check webhook-timestamp against their own clock (5 minutes' leeway).
  const clock = manualClock(new Date())
  const headers = options.caller ? bearer(options.caller) : {}
  const harness = {
    clock,
    service: undefined as unknown as TestService,
    receiver: undefined as unknown as CallbackReceiver,
    worker: undefined as unknown as Worker,

    async start() {
      harness.receiver = await startCallbackReceiver()
      harness.service = await startTestService({ clock, random: () => 0.5, env: options.env })
      harness.worker = createWorker(harness.service.deps)
    },
    async stop() {
      await harness.worker?.stop(1_000)
      await harness.service?.simulator.close()
      await harness.service?.close()
      await harness.receiver?.close()
    },

    /** A batch of `items` open items, with a callbackUrl at the receiver under `name` unless null. */
    seed(name: string | null, items = 3) {
      return seedBatch(harness.service.deps.sql, {
        caller: options.caller ?? '',
        callbackUrl: name === null ? undefined : harness.receiver.urlFor(name),
        items,
        now: clock.now(),
      })
    },
    finish(itemIds: readonly string[], status?: 'completed' | 'failed') {
      return finishItems(harness.service.deps.sql, itemIds, { at: clock.now(), status })
    },
    async read(id: string) {
      const reply = await harness.service.app.inject({ url: `/batches/${id}`, headers })
      expect(reply.statusCode).toBe(200)
      return reply.json() as Record<string, unknown>
    },
    async deliveries(id: string) {
      const reply = await harness.service.app.inject({ url: `/batches/${id}/deliveries`, headers })
      expect(reply.statusCode).toBe(200)
      return (reply.json() as { items: Record<string, unknown>[] }).items
    },
    resend(id: string) {
      return harness.service.app.inject({ method: 'POST', url: `/batches/${id}/deliveries/retry`, headers })
    },
    columns(id: string) {
      return harness.service.db.batch.findUniqueOrThrow({
        where: { id },
        select: {
          callbackState: true,
          callbackAttempts: true,
          callbackNextAt: true,
          leaseOwner: true,
          completedAt: true,
        },
      })
    },
    /** Moves the manual clock to `when` (never backwards). */
    moveClockTo(when: Date) {
      clock.advance(Math.max(0, when.getTime() - clock.now().getTime()))
    },
  }
  return harness
}

/** The event, as the `standardwebhooks` library verifies it with `secret` alone; throws when it does not. */
function verified(call: ReceivedCallback, secret: string): unknown {
  return new Webhook(secret).verify(call.raw, call.headers as Record<string, string>)
}

describe('the batch.completed callback', () => {
  const h = batchCallbackHarness()
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it('when the last item of a batch with a callbackUrl finishes, then the caller gets one signed batch.completed event whose data is the batch as GET showed it', async () => {
    const name = randomUUID()
    const batch = await h.seed(name)
    await h.finish(batch.itemIds.slice(0, 2))
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(0)
    expectErrorReply(await h.resend(batch.id), 409, 'caption_not_finished')

    await h.finish(batch.itemIds.slice(2), 'failed')
    const before = await h.read(batch.id)
    expect(before).toMatchObject({
      status: 'completed',
      total: 3,
      counts: { queued: 0, pending: 0, processing: 0, completed: 2, failed: 1 },
      costUsd: 0.03,
      callback: { state: 'pending', attempts: 0 },
    })
    const delivered = await h.service.deps.metrics.callbackDeliveries.get()
    const deliveredBefore = delivered.values.find((value) => value.labels.outcome === 'delivered')?.value ?? 0

    await h.worker.runOnce()

    const calls = h.receiver.received(name)
    expect(calls).toHaveLength(1)
    const [call] = calls as [ReceivedCallback]
    expect(call.headers['x-batch-id']).toBe(batch.id)
    expect(call.headers['x-caption-id']).toBeUndefined()
    expect(call.headers['webhook-timestamp']).toBe(String(Math.floor(h.clock.now().getTime() / 1000)))
    expect(verified(call, TEST_CALLBACK_SECRETS[0])).toEqual({
      type: 'batch.completed',
      timestamp: h.clock.now().toISOString(),
      data: before,
    })
    expect(() => verified(call, TEST_CALLBACK_SECRETS[1])).toThrow()

    expect(await h.read(batch.id)).toMatchObject({ callback: { state: 'delivered', attempts: 1 } })
    expect(await h.deliveries(batch.id)).toEqual([
      {
        id: expect.any(String),
        eventId: call.headers['webhook-id'],
        eventType: 'batch.completed',
        attempt: 1,
        attemptedAt: h.clock.now().toISOString(),
        url: h.receiver.urlFor(name),
        statusCode: 200,
        error: null,
        durationMs: expect.any(Number),
        outcome: 'delivered',
      },
    ])
    const events = await h.service.db.callbackEvent.findMany({ where: { batchId: batch.id } })
    expect(events).toMatchObject([
      { id: call.headers['webhook-id'], captionId: null, type: 'batch.completed' },
    ])
    expect(await h.columns(batch.id)).toMatchObject({ leaseOwner: null, callbackNextAt: null })
    const after = await h.service.deps.metrics.callbackDeliveries.get()
    expect(after.values.find((value) => value.labels.outcome === 'delivered')?.value).toBe(
      deliveredBefore + 1,
    )

    // Once only, and the items themselves tell nobody.
    h.clock.advance(60_000)
    expect(await h.worker.runOnce()).toBe(0)
    expect(h.receiver.received()).toEqual([call])
  })

  it('when a replica made the event and died before its first attempt, then that event is the one sent', async () => {
    const name = randomUUID()
    const batch = await h.seed(name, 1)
    await h.finish(batch.itemIds)
    const made = {
      type: 'batch.completed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: await h.read(batch.id),
    }
    const eventId = randomUUID()
    await h.service.db.callbackEvent.create({
      data: {
        id: eventId,
        batchId: batch.id,
        type: 'batch.completed',
        body: JSON.stringify(made),
        createdAt: h.clock.now(),
      },
    })

    await h.worker.runOnce()

    const [call] = h.receiver.received(name) as [ReceivedCallback]
    expect(call.headers['webhook-id']).toBe(eventId)
    expect(verified(call, TEST_CALLBACK_SECRETS[0])).toEqual(made)
    expect(await h.deliveries(batch.id)).toMatchObject([{ eventId, attempt: 1, outcome: 'delivered' }])
    expect(await h.service.db.callbackEvent.count({ where: { batchId: batch.id } })).toBe(1)
  })

  it('when the caller answers 500 and then 200, then the same event comes again on the schedule and is delivered', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 500)
    const batch = await h.seed(name, 1)
    await h.finish(batch.itemIds)
    await h.worker.runOnce()
    const failed = await h.columns(batch.id)
    expect(failed).toMatchObject({ callbackState: 'pending', callbackAttempts: 1, leaseOwner: null })
    // The injected randomness is 0.5: the ±20% jitter is then exactly 0.
    expect((failed.callbackNextAt as Date).getTime() - h.clock.now().getTime()).toBe(
      CALLBACK_RETRY_DELAYS_MS[0],
    )

    h.clock.advance(CALLBACK_RETRY_DELAYS_MS[0] - 1)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)

    h.receiver.answer(name, 200)
    h.moveClockTo(failed.callbackNextAt as Date)
    await h.worker.runOnce()
    const [first, second] = h.receiver.received(name) as [ReceivedCallback, ReceivedCallback]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    expect(second.raw).toBe(first.raw)
    expect(verified(second, TEST_CALLBACK_SECRETS[0])).toMatchObject({ type: 'batch.completed' })
    expect(
      (await h.deliveries(batch.id)).map((entry) => [entry.attempt, entry.statusCode, entry.outcome]),
    ).toEqual([
      [1, 500, 'failed'],
      [2, 200, 'delivered'],
    ])
    expect(await h.read(batch.id)).toMatchObject({ callback: { state: 'delivered', attempts: 2 } })
  })

  it('when the caller answers 410 Gone, then nothing more is sent; a re-send then sends the same event again', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 410)
    const batch = await h.seed(name, 2)
    await h.finish(batch.itemIds)
    await h.worker.runOnce()
    expect(await h.read(batch.id)).toMatchObject({ callback: { state: 'gone', attempts: 1 } })
    h.clock.advance(3_600_000)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)

    h.receiver.answer(name, 200)
    const resent = await h.resend(batch.id)
    expect(resent.statusCode).toBe(202)
    expect(resent.json()).toMatchObject({
      id: batch.id,
      status: 'completed',
      callback: { state: 'pending', attempts: 1 },
    })
    await h.worker.runOnce()
    const [first, second] = h.receiver.received(name) as [ReceivedCallback, ReceivedCallback]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    expect(second.raw).toBe(first.raw)
    expect((await h.deliveries(batch.id)).map((entry) => [entry.attempt, entry.outcome])).toEqual([
      [1, 'gone'],
      [2, 'delivered'],
    ])
  })

  it('when a batch has no callbackUrl, then its completion calls nothing, its log is empty and a re-send is refused with 400', async () => {
    const callsBefore = h.receiver.received().length
    const batch = await h.seed(null, 2)
    await h.finish(batch.itemIds)
    expect(await h.read(batch.id)).toMatchObject({
      status: 'completed',
      callbackUrl: null,
      callback: { state: 'none', attempts: 0 },
    })
    h.clock.advance(60_000)
    expect(await h.worker.runOnce()).toBe(0)
    expect(h.receiver.received()).toHaveLength(callsBefore)
    expect(await h.deliveries(batch.id)).toEqual([])
    expectErrorReply(await h.resend(batch.id), 400, 'no_callback_url')
  })

  it('when a replica stops, then the batch leases it holds are given back too', async () => {
    const batch = await h.seed(null, 1)
    await h.service.db.batch.update({
      where: { id: batch.id },
      data: { leaseOwner: 'replica-a', leaseExpiresAt: new Date(h.clock.now().getTime() + 60_000) },
    })
    expect(await releaseAllLeases(h.service.deps.sql, 'replica-a')).toBe(1)
    expect(await h.columns(batch.id)).toMatchObject({ leaseOwner: null })
  })
})

describe('the delivery log of a batch belongs to its owner', () => {
  const h = batchCallbackHarness({ env: authEnv(['alice', 'bob']), caller: 'alice' })
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it('when a re-send of a batch comes with content-type application/json and no body, then it is accepted', async () => {
    const batch = await h.seed(randomUUID(), 1)
    await h.finish(batch.itemIds)
    await h.worker.runOnce()
    const reply = await h.service.app.inject({
      method: 'POST',
      url: `/batches/${batch.id}/deliveries/retry`,
      headers: { ...bearer('alice'), 'content-type': 'application/json', 'content-length': '0' },
    })
    expect(reply.statusCode).toBe(202)
    expect(reply.json()).toMatchObject({ id: batch.id, callback: { state: 'pending' } })
  })

  it("when another caller reads or re-sends a batch's deliveries, then it gets 404 and nothing is sent", async () => {
    const name = randomUUID()
    const batch = await h.seed(name, 1)
    await h.finish(batch.itemIds)
    await h.worker.runOnce()
    expect(await h.deliveries(batch.id)).toHaveLength(1)

    for (const reply of [
      await h.service.app.inject({ url: `/batches/${batch.id}/deliveries`, headers: bearer('bob') }),
      await h.service.app.inject({
        method: 'POST',
        url: `/batches/${batch.id}/deliveries/retry`,
        headers: bearer('bob'),
      }),
    ]) {
      const body = expectErrorReply(reply, 404, 'not_found')
      expect(JSON.stringify(body)).not.toContain(name)
    }
    expectErrorReply(
      await h.service.app.inject({ method: 'POST', url: `/batches/${batch.id}/deliveries/retry` }),
      401,
      'unauthorized',
    )
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)
    expect(await h.read(batch.id)).toMatchObject({ callback: { state: 'delivered', attempts: 1 } })
  })
})

describe('a batch callback leaves as soon as the batch completes', () => {
  const h = batchCallbackHarness({ env: { WORK_INTERVAL_MS: '60000' } })
  beforeAll(async () => {
    await h.start()
    h.worker.start()
  })
  afterAll(() => h.stop())

  it('when a wake-up comes after the last item finished or a re-send is asked for, then the event is sent without waiting for the next round', async () => {
    const name = randomUUID()
    const batch = await h.seed(name, 2)
    await h.finish(batch.itemIds)
    h.service.deps.wake()
    await eventually(async () => (h.receiver.received(name).length === 1 ? true : undefined), 3_000)

    expect((await h.resend(batch.id)).statusCode).toBe(202)
    await eventually(async () => (h.receiver.received(name).length === 2 ? true : undefined), 3_000)
    const [first, second] = h.receiver.received(name) as [ReceivedCallback, ReceivedCallback]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    await eventually(async () =>
      (await h.columns(batch.id)).callbackState === 'delivered' ? true : undefined,
    )
  })
})
