import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_MAX_ATTEMPTS } from '../../src/captions/callbacks.js'
import { createWorker, type Worker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { eventually, manualClock, startTestService, type TestService } from '../helpers/service.js'

interface CaptionBody {
  id: string
  status: string
}

describe('callbacks to the caller when a caption finishes', () => {
  let service: TestService
  let receiver: CallbackReceiver
  let worker: Worker
  const clock = manualClock()

  beforeAll(async () => {
    receiver = await startCallbackReceiver()
    service = await startTestService({ clock })
    worker = createWorker(service.deps)
  })
  afterEach(() => {
    service.simulator.faults.failTaskRate = 0
    service.simulator.faults.createFailureRate = 0
  })
  afterAll(async () => {
    await worker?.stop(1_000)
    // The simulator first: no webhook is then in flight on a connection that would hold the app's close.
    await service?.simulator.close()
    await service?.close()
    await receiver?.close()
  })

  /** Posts a caption (with a callback to `name` unless null) and waits for the simulator to finish it. */
  async function finishedCaption(name: string | null, status: 'completed' | 'failed' = 'completed') {
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: {
        imageUrl: `https://images.example.com/callbacks/${randomUUID()}.png`,
        ...(name === null ? {} : { callbackUrl: receiver.urlFor(name) }),
      },
    })
    expect(posted.statusCode).toBe(202)
    const { id } = posted.json() as CaptionBody
    await eventually(async () => {
      const read = (await service.app.inject({ method: 'GET', url: `/captions/${id}` })).json() as CaptionBody
      return read.status === 'completed' || read.status === 'failed' ? read : undefined
    })
    const row = await callbackColumns(id)
    expect(row.status).toBe(status)
    return id
  }

  function callbackColumns(id: string) {
    return service.db.caption.findUniqueOrThrow({
      where: { id },
      select: {
        status: true,
        callbackState: true,
        callbackAttempts: true,
        callbackNextAt: true,
        leaseOwner: true,
      },
    })
  }

  async function readCaption(id: string) {
    const reply = await service.app.inject({ method: 'GET', url: `/captions/${id}` })
    expect(reply.statusCode).toBe(200)
    return reply.json() as Record<string, unknown>
  }

  /** Moves the manual clock to `when` (never backwards). */
  function moveClockTo(when: Date) {
    clock.advance(Math.max(0, when.getTime() - clock.now().getTime()))
  }

  it('when a caption with a callbackUrl completes, then the caller gets one POST caption.completed with the caption as GET shows it', async () => {
    const name = randomUUID()
    const id = await finishedCaption(name)
    expect(await callbackColumns(id)).toMatchObject({ callbackState: 'pending', callbackAttempts: 0 })
    expect(receiver.received(name)).toHaveLength(0)

    await worker.runOnce()

    const calls = receiver.received(name)
    expect(calls).toHaveLength(1)
    const [call] = calls
    expect(call?.method).toBe('POST')
    expect(call?.headers['x-caption-id']).toBe(id)
    expect(String(call?.headers['content-type'])).toMatch(/^application\/json/)
    expect(call?.body).toEqual({ type: 'caption.completed', caption: await readCaption(id) })
    expect(await callbackColumns(id)).toMatchObject({
      callbackState: 'delivered',
      callbackAttempts: 1,
      // Due only while pending: the callback claim never walks past delivered rows.
      callbackNextAt: null,
      leaseOwner: null,
    })

    clock.advance(60 * 60_000)
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(1)
  })

  it('when a caption with a callbackUrl fails, then the caller gets caption.failed with the error', async () => {
    service.simulator.faults.failTaskRate = 1
    const name = randomUUID()
    const id = await finishedCaption(name, 'failed')

    await worker.runOnce()

    const calls = receiver.received(name)
    expect(calls).toHaveLength(1)
    const caption = await readCaption(id)
    expect(caption.error).toMatchObject({ code: 'goapi_task_failed' })
    expect(calls[0]?.body).toEqual({ type: 'caption.failed', caption })
    expect(calls[0]?.headers['x-caption-id']).toBe(id)
    expect(await callbackColumns(id)).toMatchObject({ callbackState: 'delivered', callbackAttempts: 1 })
  })

  it('when GoAPI refuses the task, then the caption fails at once and the caller is told caption.failed', async () => {
    service.simulator.faults.createFailureRate = 1
    service.simulator.faults.createFailureStatus = 400
    const name = randomUUID()
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: {
        imageUrl: `https://images.example.com/callbacks/${randomUUID()}.png`,
        callbackUrl: receiver.urlFor(name),
      },
    })
    const { id } = posted.json() as CaptionBody
    expect(await callbackColumns(id)).toMatchObject({ status: 'failed', callbackState: 'pending' })
    expect((await callbackColumns(id)).callbackNextAt).not.toBeNull()

    await worker.runOnce()
    expect(receiver.received(name).map((call) => (call.body as { type: string }).type)).toEqual([
      'caption.failed',
    ])
    expect(await callbackColumns(id)).toMatchObject({ callbackState: 'delivered', callbackNextAt: null })
  })

  it('when the caller answers 500, then the callback is retried only after the backoff, delivered once it answers 200, and never twice', async () => {
    const name = randomUUID()
    receiver.answer(name, 500)
    const id = await finishedCaption(name)

    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(1)
    const afterFirst = await callbackColumns(id)
    expect(afterFirst).toMatchObject({ callbackState: 'pending', callbackAttempts: 1, leaseOwner: null })
    const retryAt = afterFirst.callbackNextAt as Date
    expect(retryAt.getTime()).toBeGreaterThan(clock.now().getTime())

    // Not yet due: nothing is sent, however often the worker looks.
    await worker.runOnce()
    moveClockTo(new Date(retryAt.getTime() - 1))
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(1)

    // Due, still failing: a second try, and a later next one.
    moveClockTo(retryAt)
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(2)
    const afterSecond = await callbackColumns(id)
    expect(afterSecond).toMatchObject({ callbackState: 'pending', callbackAttempts: 2 })
    const secondRetryAt = afterSecond.callbackNextAt as Date
    expect(secondRetryAt.getTime()).toBeGreaterThan(clock.now().getTime())

    receiver.answer(name, 200)
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(2)
    moveClockTo(secondRetryAt)
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(3)
    expect(await callbackColumns(id)).toMatchObject({ callbackState: 'delivered', callbackAttempts: 3 })
    for (const call of receiver.received(name)) {
      expect(call.body).toEqual({ type: 'caption.completed', caption: await readCaption(id) })
    }

    clock.advance(24 * 60 * 60_000)
    await worker.runOnce()
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(3)
  })

  it('when the caller never succeeds, then the callback is given up after CALLBACK_MAX_ATTEMPTS tries', async () => {
    const name = randomUUID()
    receiver.answer(name, 503)
    const id = await finishedCaption(name)

    for (let attempt = 1; attempt <= CALLBACK_MAX_ATTEMPTS; attempt += 1) {
      const before = await callbackColumns(id)
      expect(before.callbackState).toBe('pending')
      moveClockTo(before.callbackNextAt as Date)
      await worker.runOnce()
      expect(receiver.received(name)).toHaveLength(attempt)
      expect((await callbackColumns(id)).callbackAttempts).toBe(attempt)
    }

    expect(await callbackColumns(id)).toMatchObject({
      callbackState: 'failed',
      callbackAttempts: CALLBACK_MAX_ATTEMPTS,
      callbackNextAt: null,
      leaseOwner: null,
    })
    clock.advance(24 * 60 * 60_000)
    await worker.runOnce()
    expect(receiver.received(name)).toHaveLength(CALLBACK_MAX_ATTEMPTS)
  })

  it('when a caption has no callbackUrl, then finishing it calls nothing', async () => {
    const callsBefore = receiver.received().length
    const id = await finishedCaption(null)
    expect(await callbackColumns(id)).toMatchObject({
      callbackState: 'none',
      callbackAttempts: 0,
      callbackNextAt: null,
    })

    clock.advance(60 * 60_000)
    expect(await worker.runOnce()).toBe(0)
    expect(receiver.received()).toHaveLength(callsBefore)
    expect(await callbackColumns(id)).toMatchObject({ callbackState: 'none', callbackAttempts: 0 })
  })
})
