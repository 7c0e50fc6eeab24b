import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CALLBACK_RETRY_DELAYS_MS, CALLBACK_RETRY_EVERY_MS } from '../../src/callbacks/schedule.js'
import { startCallbacksReceiver } from '../../src/cli/callbacks-receiver.js'
import { createWorker, type Worker } from '../../src/work/worker.js'
import {
  type CallbackReceiver,
  type ReceivedCallback,
  startCallbackReceiver,
} from '../helpers/callback-receiver.js'
import { authEnv, bearer, type CallerName, uniqueImageUrl } from '../helpers/callers.js'
import { expectErrorReply, expectValidationError } from '../helpers/http.js'
import {
  eventually,
  freePort,
  manualClock,
  startTestService,
  TEST_CALLBACK_SECRETS,
  type TestService,
} from '../helpers/service.js'

interface Delivery {
  id: string
  eventId: string
  eventType: string
  attempt: number
  attemptedAt: string
  url: string
  statusCode: number | null
  error: string | null
  durationMs: number | null
  outcome: string
}

/** A service with a worker run by hand and a receiver, and the steps every test here takes. */
function callbackHarness(options: { env?: Record<string, string>; random?: () => number } = {}) {
  // Near the wall clock: receivers check webhook-timestamp against their own clock (5 minutes' leeway).
  const clock = manualClock(new Date())
  const harness = {
    clock,
    service: undefined as unknown as TestService,
    receiver: undefined as unknown as CallbackReceiver,
    worker: undefined as unknown as Worker,

    async start() {
      harness.receiver = await startCallbackReceiver()
      harness.service = await startTestService({ clock, random: options.random, env: options.env })
      harness.worker = createWorker(harness.service.deps)
    },
    async stop() {
      await harness.worker?.stop(1_000)
      // The simulator first: no webhook is then in flight on a connection that would hold the app's close.
      await harness.service?.simulator.close()
      await harness.service?.close()
      await harness.receiver?.close()
    },

    /** Posts a caption (as `caller`) and waits for the simulator to finish it. */
    async finishedCaption(
      callbackUrl: string | undefined,
      status: 'completed' | 'failed' = 'completed',
      caller?: CallerName,
    ): Promise<string> {
      const posted = await harness.service.app.inject({
        method: 'POST',
        url: '/captions',
        headers: caller ? bearer(caller) : {},
        payload: { imageUrl: uniqueImageUrl('callbacks'), ...(callbackUrl ? { callbackUrl } : {}) },
      })
      expect(posted.statusCode).toBe(202)
      const { id } = posted.json() as { id: string }
      const row = await eventually(async () => {
        const read = await harness.columns(id)
        return read.status === 'completed' || read.status === 'failed' ? read : undefined
      })
      expect(row.status).toBe(status)
      return id
    },

    columns(id: string) {
      return harness.service.db.caption.findUniqueOrThrow({
        where: { id },
        select: {
          status: true,
          callbackState: true,
          callbackAttempts: true,
          callbackNextAt: true,
          leaseOwner: true,
        },
      })
    },

    async read(id: string, caller?: CallerName) {
      const reply = await harness.service.app.inject({
        method: 'GET',
        url: `/captions/${id}`,
        headers: caller ? bearer(caller) : {},
      })
      expect(reply.statusCode).toBe(200)
      return reply.json() as Record<string, unknown>
    },

    async deliveries(id: string, caller?: CallerName): Promise<Delivery[]> {
      const reply = await harness.service.app.inject({
        method: 'GET',
        url: `/captions/${id}/deliveries`,
        headers: caller ? bearer(caller) : {},
      })
      expect(reply.statusCode).toBe(200)
      return (reply.json() as { items: Delivery[] }).items
    },

    resend(id: string, caller?: CallerName) {
      return harness.service.app.inject({
        method: 'POST',
        url: `/captions/${id}/deliveries/retry`,
        headers: caller ? bearer(caller) : {},
      })
    },

    /** Moves the clock to the caption's next callback attempt and runs a round. */
    async runWhenDue(id: string) {
      const { callbackNextAt } = await harness.columns(id)
      harness.moveClockTo(callbackNextAt as Date)
      await harness.worker.runOnce()
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

describe('callbacks to the caller when a caption finishes', () => {
  const h = callbackHarness({ random: () => 0.5 })
  beforeAll(() => h.start())
  afterEach(() => {
    h.service.simulator.faults.failTaskRate = 0
    h.service.simulator.faults.neverFinishRate = 0
  })
  afterAll(() => h.stop())

  it('when a caption with a callbackUrl completes, then the caller gets one signed caption.completed event whose data is the caption as GET showed it', async () => {
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    const before = await h.read(id)
    expect(before).toMatchObject({
      callbackUrl: h.receiver.urlFor(name),
      callback: { state: 'pending', attempts: 0 },
    })
    expect(h.receiver.received(name)).toHaveLength(0)

    await h.worker.runOnce()

    const calls = h.receiver.received(name)
    expect(calls).toHaveLength(1)
    const [call] = calls as [ReceivedCallback]
    expect(call.method).toBe('POST')
    expect(String(call.headers['content-type'])).toMatch(/^application\/json/)
    expect(call.headers['webhook-timestamp']).toBe(String(Math.floor(h.clock.now().getTime() / 1000)))
    expect(String(call.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(verified(call, TEST_CALLBACK_SECRETS[0])).toEqual({
      type: 'caption.completed',
      timestamp: h.clock.now().toISOString(),
      data: before,
    })
    expect(() => verified(call, TEST_CALLBACK_SECRETS[1])).toThrow()

    expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: 1 } })
    expect(await h.deliveries(id)).toEqual([
      {
        id: expect.any(String),
        eventId: call.headers['webhook-id'],
        eventType: 'caption.completed',
        attempt: 1,
        attemptedAt: h.clock.now().toISOString(),
        url: h.receiver.urlFor(name),
        statusCode: 200,
        error: null,
        durationMs: expect.any(Number),
        outcome: 'delivered',
      },
    ])
    // Due only while pending: the callback claim never walks past delivered rows.
    expect(await h.columns(id)).toMatchObject({ leaseOwner: null, callbackNextAt: null })

    h.clock.advance(60_000)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)
  })

  it('when a replica made the event and died before its first attempt, then that event is the one sent', async () => {
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    const made = { type: 'caption.completed', timestamp: '2026-01-01T00:00:00.000Z', data: await h.read(id) }
    const eventId = randomUUID()
    await h.service.db.callbackEvent.create({
      data: {
        id: eventId,
        captionId: id,
        type: 'caption.completed',
        body: JSON.stringify(made),
        createdAt: h.clock.now(),
      },
    })

    await h.worker.runOnce()

    const calls = h.receiver.received(name) as ReceivedCallback[]
    expect(calls).toHaveLength(1)
    expect(calls[0]?.headers['webhook-id']).toBe(eventId)
    expect(verified(calls[0] as ReceivedCallback, TEST_CALLBACK_SECRETS[0])).toEqual(made)
    expect(await h.deliveries(id)).toMatchObject([{ eventId, attempt: 1, outcome: 'delivered' }])
    expect(await h.service.db.callbackEvent.count({ where: { captionId: id } })).toBe(1)
  })

  it('when a caption with a callbackUrl fails, then the caller gets caption.failed with the error in data', async () => {
    h.service.simulator.faults.failTaskRate = 1
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name), 'failed')

    await h.worker.runOnce()

    const [call] = h.receiver.received(name) as [ReceivedCallback]
    const event = verified(call, TEST_CALLBACK_SECRETS[0]) as { type: string; data: Record<string, unknown> }
    expect(event.type).toBe('caption.failed')
    expect(event.data).toMatchObject({ id, status: 'failed', error: { code: 'goapi_task_failed' } })
    expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: 1 } })
  })

  it('when the caller answers 500 three times and then 200, then it gets 4 signed attempts of one event, on the schedule, and one success', async () => {
    const caller = await startCallbacksReceiver({ secrets: [TEST_CALLBACK_SECRETS[0]], failTimes: 3 })
    try {
      const url = `${caller.url}/orders/caption-done`
      const id = await h.finishedCaption(url)
      await h.worker.runOnce()
      const waits: number[] = []
      for (let attempt = 1; attempt <= 3; attempt++) {
        const row = await h.columns(id)
        expect(row).toMatchObject({ callbackState: 'pending', callbackAttempts: attempt, leaseOwner: null })
        const due = row.callbackNextAt as Date
        waits.push(due.getTime() - h.clock.now().getTime())
        // Not due yet: nothing is sent, however often the worker looks.
        h.moveClockTo(new Date(due.getTime() - 1))
        await h.worker.runOnce()
        expect(caller.deliveries()).toHaveLength(attempt)
        h.moveClockTo(due)
        await h.worker.runOnce()
      }

      // The injected randomness is 0.5 here: the ±20% jitter is then exactly 0.
      expect(waits).toEqual(CALLBACK_RETRY_DELAYS_MS.slice(0, 3))
      const received = caller.deliveries()
      expect(received.map((delivery) => delivery.statusCode)).toEqual([500, 500, 500, 200])
      expect(received.every((delivery) => delivery.verifiedBy.length === 1)).toBe(true)
      const eventIds = new Set(received.map((delivery) => delivery.headers['webhook-id']))
      expect(eventIds.size).toBe(1)
      expect(new Set(received.map((delivery) => delivery.body)).size).toBe(1)

      const log = await h.deliveries(id)
      expect(log.map((entry) => [entry.attempt, entry.statusCode, entry.outcome])).toEqual([
        [1, 500, 'failed'],
        [2, 500, 'failed'],
        [3, 500, 'failed'],
        [4, 200, 'delivered'],
      ])
      expect(log.every((entry) => eventIds.has(entry.eventId))).toBe(true)
      expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: 4 } })

      h.clock.advance(60_000)
      await h.worker.runOnce()
      expect(caller.deliveries()).toHaveLength(4)
    } finally {
      await caller.close()
    }
  })

  it('when the caller answers 410 Gone, then nothing more is sent and the state is gone; a re-send then sends the same event again', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 410)
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    expect(await h.read(id)).toMatchObject({ callback: { state: 'gone', attempts: 1 } })
    expect((await h.deliveries(id)).map((entry) => [entry.statusCode, entry.outcome])).toEqual([
      [410, 'gone'],
    ])
    h.clock.advance(60_000)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)

    h.receiver.answer(name, 200)
    const resent = await h.resend(id)
    expect(resent.statusCode).toBe(202)
    expect(resent.json()).toMatchObject({ id, callback: { state: 'pending', attempts: 1 } })
    await h.worker.runOnce()

    const [first, second] = h.receiver.received(name) as [ReceivedCallback, ReceivedCallback]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    expect(second.raw).toBe(first.raw)
    expect(verified(second, TEST_CALLBACK_SECRETS[0])).toEqual(JSON.parse(first.raw))
    expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: 2 } })
    expect((await h.deliveries(id)).map((entry) => [entry.attempt, entry.outcome])).toEqual([
      [1, 'gone'],
      [2, 'delivered'],
    ])
  })

  it('when a re-send comes with content-type application/json and no body, as curl sends it, then it is accepted; a body that says something is refused', async () => {
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    const send = (payload?: string) =>
      h.service.app.inject({
        method: 'POST',
        url: `/captions/${id}/deliveries/retry`,
        headers: {
          'content-type': 'application/json',
          ...(payload === undefined ? { 'content-length': '0' } : {}),
        },
        ...(payload === undefined ? {} : { payload }),
      })
    for (const payload of [undefined, '', '{}', 'null']) {
      const reply = await send(payload)
      expect(reply.statusCode, String(payload)).toBe(202)
      expect(reply.json()).toMatchObject({ id, callback: { state: 'pending' } })
    }
    for (const payload of ['{"force":true}', '[]', '1']) {
      const error = expectValidationError(await send(payload), 'body')
      expect(error.message).toContain('takes no body')
    }
    expectErrorReply(await send('{'), 400, 'invalid_json')
  })

  it('when a re-send is asked for while a retry is scheduled, then it leaves at once rather than at the scheduled time', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 500)
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    const scheduled = (await h.columns(id)).callbackNextAt as Date
    expect(scheduled.getTime()).toBeGreaterThan(h.clock.now().getTime())

    expect((await h.resend(id)).statusCode).toBe(202)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(2)
    expect(await h.columns(id)).toMatchObject({ callbackState: 'pending', callbackAttempts: 2 })

    h.receiver.answer(name, 200)
    await h.runWhenDue(id)
    expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: 3 } })
  })

  it('when a caption has no callbackUrl, then finishing it calls nothing, its log is empty and a re-send is refused with 400', async () => {
    const callsBefore = h.receiver.received().length
    const id = await h.finishedCaption(undefined)
    expect(await h.read(id)).toMatchObject({ callbackUrl: null, callback: { state: 'none', attempts: 0 } })

    h.clock.advance(60_000)
    expect(await h.worker.runOnce()).toBe(0)
    expect(h.receiver.received()).toHaveLength(callsBefore)
    expect(await h.deliveries(id)).toEqual([])
    expectErrorReply(await h.resend(id), 400, 'no_callback_url')
    expect(await h.columns(id)).toMatchObject({ callbackState: 'none', callbackAttempts: 0 })
  })

  it('when a caption is not finished, then a re-send is refused with 409 and nothing is sent', async () => {
    h.service.simulator.faults.neverFinishRate = 1
    const name = randomUUID()
    const posted = await h.service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: uniqueImageUrl('callbacks'), callbackUrl: h.receiver.urlFor(name) },
    })
    const { id } = posted.json() as { id: string }
    expectErrorReply(await h.resend(id), 409, 'caption_not_finished')
    expect(await h.deliveries(id)).toEqual([])
    expect(h.receiver.received(name)).toHaveLength(0)
    expectErrorReply(await h.resend(randomUUID()), 404, 'not_found')
  })

  it('when callbackUrl names a host off CALLBACK_ALLOWED_HOSTS, then it is refused; one on the list, loopback included, is called', async () => {
    // The list here is 127.0.0.1 alone: another loopback name or a private address is not on it.
    for (const callbackUrl of [
      'http://localhost:9/hook',
      'http://10.1.2.3/hook',
      'https://hooks.example.com/x',
    ]) {
      const reply = await h.service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: { imageUrl: uniqueImageUrl('callbacks'), callbackUrl },
      })
      const body = expectErrorReply(reply, 400, 'validation_failed')
      expect(body.details.map((detail) => detail.field)).toEqual(['callbackUrl'])
    }
    const name = randomUUID()
    await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)
  })
})

describe('a callback whose caller never answers 2xx', () => {
  const h = callbackHarness({ random: () => 0.5 })
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it('when it keeps failing, then it is retried after 1 s, 5 s, 30 s, 2 min, 10 min, 1 h and every 3 h until CALLBACK_RETRY_WINDOW_SECONDS, then failed; a re-send after the window still leaves', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 503)
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    const start = h.clock.now().getTime()
    await h.worker.runOnce()
    for (let round = 0; round < 30 && (await h.columns(id)).callbackState === 'pending'; round++) {
      await h.runWhenDue(id)
    }

    const times = h.receiver.received(name).map((call) => Number(call.headers['webhook-timestamp']) * 1000)
    const gaps = times.slice(1).map((time, index) => time - (times[index] as number))
    const window = 86_400_000
    const expected: number[] = [...CALLBACK_RETRY_DELAYS_MS]
    while (expected.reduce((sum, gap) => sum + gap, 0) + CALLBACK_RETRY_EVERY_MS <= window) {
      expected.push(CALLBACK_RETRY_EVERY_MS)
    }
    expect(gaps).toEqual(expected)
    expect(times[0]).toBe(Math.floor(start / 1000) * 1000)
    const attempts = expected.length + 1
    expect(await h.read(id)).toMatchObject({ callback: { state: 'failed', attempts } })
    const log = await h.deliveries(id)
    expect(log).toHaveLength(attempts)
    expect(log.every((entry) => entry.outcome === 'failed' && entry.statusCode === 503)).toBe(true)

    h.clock.advance(window)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(attempts)

    h.receiver.answer(name, 200)
    expect((await h.resend(id)).statusCode).toBe(202)
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(attempts + 1)
    expect(await h.read(id)).toMatchObject({ callback: { state: 'delivered', attempts: attempts + 1 } })
  })
})

describe('callbacks signed with two keys (a rotation)', () => {
  const h = callbackHarness({ env: { CALLBACK_SIGNING_SECRET: TEST_CALLBACK_SECRETS.join(',') } })
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it('when CALLBACK_SIGNING_SECRET holds two keys, then every attempt carries two signatures and verifies under either key alone', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 500)
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    h.receiver.answer(name, 200)
    await h.runWhenDue(id)

    const calls = h.receiver.received(name)
    expect(calls).toHaveLength(2)
    for (const call of calls) {
      expect(String(call.headers['webhook-signature']).split(' ')).toHaveLength(2)
      const event = verified(call, TEST_CALLBACK_SECRETS[0])
      expect(verified(call, TEST_CALLBACK_SECRETS[1])).toEqual(event)
      expect(() =>
        verified(call, `whsec_${Buffer.from('a-key-nobody-configured-0123').toString('base64')}`),
      ).toThrow()
    }
  })
})

describe('the delivery log belongs to the caption owner', () => {
  const h = callbackHarness({ env: authEnv(['alice', 'bob']) })
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it("when another caller reads or re-sends a caption's deliveries, then it gets 404 and nothing is sent", async () => {
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name), 'completed', 'alice')
    await h.worker.runOnce()
    expect(await h.deliveries(id, 'alice')).toHaveLength(1)

    for (const reply of [
      await h.service.app.inject({
        method: 'GET',
        url: `/captions/${id}/deliveries`,
        headers: bearer('bob'),
      }),
      await h.resend(id, 'bob'),
    ]) {
      const body = expectErrorReply(reply, 404, 'not_found')
      expect(JSON.stringify(body)).not.toContain(name)
    }
    expectErrorReply(await h.resend(id), 401, 'unauthorized')
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)
    expect(await h.read(id, 'alice')).toMatchObject({ callback: { state: 'delivered', attempts: 1 } })
  })
})

describe('a callback leaves as soon as the caption finishes', () => {
  const h = callbackHarness({ env: { WORK_INTERVAL_MS: '60000' } })
  beforeAll(async () => {
    await h.start()
    h.worker.start()
  })
  afterAll(() => h.stop())

  it('when the completing webhook commits or a re-send is asked for, then the callback is sent without waiting for the next round', async () => {
    const name = randomUUID()
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await eventually(async () => (h.receiver.received(name).length === 1 ? true : undefined), 3_000)

    expect((await h.resend(id)).statusCode).toBe(202)
    await eventually(async () => (h.receiver.received(name).length === 2 ? true : undefined), 3_000)
    const [first, second] = h.receiver.received(name) as [ReceivedCallback, ReceivedCallback]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    await eventually(async () => ((await h.columns(id)).callbackState === 'delivered' ? true : undefined))
  })
})

describe('the allowlist and the delivery log at every attempt', () => {
  const h = callbackHarness({ random: () => 0.5 })
  beforeAll(() => h.start())
  afterAll(() => h.stop())

  it('when a host is taken off CALLBACK_ALLOWED_HOSTS after a failed attempt, then the retry and a re-send are refused, logged as such, and nothing reaches it', async () => {
    const name = randomUUID()
    h.receiver.answer(name, 503)
    const id = await h.finishedCaption(h.receiver.urlFor(name))
    await h.worker.runOnce()
    expect(h.receiver.received(name)).toHaveLength(1)

    // A replica started after the operator took 127.0.0.1 off the list, on the same database.
    const other = await startTestService({
      clock: h.clock,
      databaseUrl: h.service.databaseUrl,
      env: { CALLBACK_ALLOWED_HOSTS: 'hooks.example.com' },
    })
    const worker = createWorker(other.deps)
    try {
      const { callbackNextAt } = await h.columns(id)
      h.moveClockTo(callbackNextAt as Date)
      await worker.runOnce()
      expect(await h.read(id)).toMatchObject({ callback: { state: 'failed', attempts: 2 } })

      expect((await h.resend(id)).statusCode).toBe(202)
      await worker.runOnce()
      expect(h.receiver.received(name)).toHaveLength(1)
      const log = await h.deliveries(id)
      expect(
        log.map(({ attempt, outcome, statusCode, error }) => ({ attempt, outcome, statusCode, error })),
      ).toEqual([
        { attempt: 1, outcome: 'failed', statusCode: 503, error: null },
        { attempt: 2, outcome: 'refused', statusCode: null, error: 'not_allowed' },
        { attempt: 3, outcome: 'refused', statusCode: null, error: 'not_allowed' },
      ])
      expect(await h.read(id)).toMatchObject({ callback: { state: 'failed', attempts: 3 } })
      const refusals = other.logs.filter((line) => String(line.msg).startsWith('callback refused'))
      expect(refusals).toHaveLength(2)
      expect(refusals[0]).toMatchObject({
        level: 40,
        captionId: id,
        reason: expect.stringContaining('127.0.0.1'),
      })
    } finally {
      await worker.stop(1_000)
      await other.close()
    }
  })

  it('when the endpoint refuses the connection or speaks no TLS, then the log shows connection_failed or tls_failed and the socket detail stays in the service log', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/hook`
    const notTls = h.receiver.urlFor(randomUUID()).replace('http://', 'https://')
    for (const [callbackUrl, shown] of [
      [closed, 'connection_failed'],
      [notTls, 'tls_failed'],
    ] as const) {
      const id = await h.finishedCaption(callbackUrl)
      await h.worker.runOnce()
      const reply = await h.service.app.inject({ method: 'GET', url: `/captions/${id}/deliveries` })
      expect(reply.body).not.toMatch(/E[A-Z]{4,}|UND_ERR|SSL/)
      const [attempt] = (reply.json() as { items: Delivery[] }).items
      expect(attempt).toMatchObject({ outcome: 'failed', statusCode: null, error: shown })
      const logged = h.service.logs.find(
        (line) => line.msg === 'callback not delivered' && line.captionId === id,
      )
      expect(logged).toMatchObject({
        failure: shown,
        detail: [expect.objectContaining({ code: expect.any(String) })],
      })
    }
    expect(h.service.rawLogs()).toContain('ECONNREFUSED')
  })
})
