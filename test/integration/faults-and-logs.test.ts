import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import {
  eventually,
  startTestService,
  TEST_GOAPI_KEY,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface CaptionReply {
  id: string
  status: string
  caption: string | null
  error: { code: string; message: string } | null
  goapiTaskId: string | null
  completedAt: string | null
}

async function postCaption(service: TestService, headers: Record<string, string> = {}) {
  const reply = await service.app.inject({
    method: 'POST',
    url: '/captions',
    headers,
    payload: { imageUrl: `https://images.example.com/faults/${randomUUID()}.png` },
  })
  return { reply, caption: reply.json() as CaptionReply }
}

async function readCaption(service: TestService, id: string): Promise<CaptionReply> {
  const reply = await service.app.inject({ method: 'GET', url: `/captions/${id}` })
  expect(reply.statusCode).toBe(200)
  return reply.json() as CaptionReply
}

function untilFinal(service: TestService, id: string) {
  return eventually(async () => {
    const caption = await readCaption(service, id)
    return caption.status === 'completed' || caption.status === 'failed' ? caption : undefined
  })
}

describe('GoAPI delivering duplicated and reordered webhooks', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { duplicateWebhookRate: 1, reorderWebhooks: true } })
  })
  afterAll(async () => {
    await service.close()
  })

  it('when every webhook comes twice and a stale pending follows the end, then the caption completes exactly once', async () => {
    const { reply, caption } = await postCaption(service)
    expect(reply.statusCode).toBe(202)
    const taskId = caption.goapiTaskId as string
    const simulated = service.simulator.tasks.get(taskId)
    expect(simulated).toBeDefined()

    const first = await untilFinal(service, caption.id)
    // pending, processing, completed and the stale pending, each sent twice.
    await eventually(async () => ((simulated?.webhookDeliveries ?? 0) >= 8 ? true : undefined))
    // Every one of them was answered 2xx at the first try: none was refused and retried.
    expect(simulated?.webhookAttempts).toBe(8)

    const done = await readCaption(service, caption.id)
    expect(done).toEqual(first)
    expect(done.status).toBe('completed')
    expect(done.caption).toBe(simulated?.task.output?.text)
    expect(done.caption).toContain('[simulated caption]')
    expect(done.error).toBeNull()

    const completions = service.logs.filter(
      (line) =>
        line.captionId === caption.id && line.status === 'completed' && line.msg === 'caption moved forward',
    )
    expect(completions).toHaveLength(1)

    const stale = await service.app.inject(
      goapiDelivery({ captionId: caption.id, taskId, status: 'pending' }),
    )
    expect(stale.statusCode).toBe(200)
    expect(await readCaption(service, caption.id)).toEqual(done)
  })
})

describe('GoAPI failing the task', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { failTaskRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  it("when the task fails at GoAPI, then the caption ends failed with GoAPI's message", async () => {
    const { reply, caption } = await postCaption(service)
    expect(reply.statusCode).toBe(202)
    const failed = await untilFinal(service, caption.id)
    const goapiError = service.simulator.tasks.get(caption.goapiTaskId as string)?.task.error
    expect(goapiError?.message).toMatch(/\S/)
    expect(failed).toMatchObject({
      status: 'failed',
      caption: null,
      error: { code: 'goapi_task_failed', message: goapiError?.message },
    })
    expect(failed.completedAt).toEqual(expect.any(String))
  })
})

describe('GoAPI refusing the create call', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { createFailureRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  it.each([
    [400, 'Bad Request'],
    [401, 'Unauthorized'],
    [402, 'Payment Required'],
    [403, 'Forbidden'],
  ])(
    "when GoAPI answers %i, then the caption fails with goapi_rejected and GoAPI's message",
    async (status, words) => {
      service.simulator.faults.createFailureStatus = status
      const faultsBefore = service.simulator.counters.createFaults
      const { reply, caption } = await postCaption(service)
      expect(reply.statusCode).toBe(202)
      expect(service.simulator.counters.createFaults).toBe(faultsBefore + 1)
      expect(caption).toMatchObject({ status: 'failed', caption: null, goapiTaskId: null })
      expect(caption.error?.code).toBe('goapi_rejected')
      // The simulator's body is GoAPI's `{ code, message }`; its message must reach the caller.
      expect(caption.error?.message).toContain(`simulated fault: ${words}`)
      expect(await readCaption(service, caption.id)).toEqual(caption)
    },
  )

  it.each([429, 500, 503])(
    'when GoAPI answers %i, then the caption is accepted as queued with no error, to be sent again later',
    async (status) => {
      service.simulator.faults.createFailureStatus = status
      const { reply, caption } = await postCaption(service)
      expect(reply.statusCode).toBe(202)
      expect(reply.headers.location).toBe(`/captions/${caption.id}`)
      expect(caption).toMatchObject({ status: 'queued', caption: null, error: null, goapiTaskId: null })
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
      expect(row).toMatchObject({ status: 'queued', errorCode: null, goapiTaskId: null })
    },
  )
})

describe('request ids in logs and replies', () => {
  let service: TestService
  beforeAll(async () => {
    // No webhooks: every line logged while a request runs belongs to that request.
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  /** The log lines written while `run` ran. */
  async function linesDuring<T>(run: () => Promise<T>) {
    const from = service.logs.length
    const result = await run()
    return { result, lines: service.logs.slice(from) }
  }

  it('when a caller sends a sane X-Request-Id, then the reply returns it and every line of the request carries it', async () => {
    const requestId = 'caller-7f3a.b2:9_x'
    const { result, lines } = await linesDuring(() => postCaption(service, { 'x-request-id': requestId }))
    expect(result.reply.statusCode).toBe(202)
    expect(result.reply.headers['x-request-id']).toBe(requestId)
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.filter((line) => line.reqId !== requestId)).toEqual([])
    expect(lines.some((line) => line.captionId === result.caption.id)).toBe(true)
  })

  it('when no X-Request-Id is sent, then one is made, returned and logged on every line', async () => {
    const { result, lines } = await linesDuring(() => postCaption(service))
    const requestId = result.reply.headers['x-request-id']
    expect(requestId).toMatch(UUID)
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.filter((line) => line.reqId !== requestId)).toEqual([])
  })

  it.each([
    ['spaces', 'not a sane id'],
    ['a tab', 'id\tforged'],
    ['over 128 characters', 'x'.repeat(129)],
  ])('when X-Request-Id holds %s, then a fresh id replaces it', async (_, given) => {
    const reply = await service.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': given },
    })
    expect(reply.headers['x-request-id']).toMatch(UUID)
  })

  it('when a request is refused, then the error reply carries the request id too', async () => {
    const reply = await service.app.inject({
      method: 'GET',
      url: `/captions/${randomUUID()}`,
      headers: { 'x-request-id': 'refused-request-1' },
    })
    expect(reply.statusCode).toBe(404)
    expect(reply.headers['x-request-id']).toBe('refused-request-1')
  })

  it('when a webhook is received, then every line it logs carries its request id', async () => {
    const { caption } = await postCaption(service)
    const delivery = goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId as string })
    const { result, lines } = await linesDuring(() =>
      service.app.inject({
        ...delivery,
        headers: { ...delivery.headers, 'x-request-id': 'webhook-request-1' },
      }),
    )
    expect(result.statusCode).toBe(200)
    expect(result.headers['x-request-id']).toBe('webhook-request-1')
    expect(lines.filter((line) => line.reqId !== 'webhook-request-1')).toEqual([])
    expect(lines.some((line) => line.captionId === caption.id)).toBe(true)
  })
})

describe('secrets in logs', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ env: { LOG_LEVEL: 'trace' } })
  })
  afterAll(async () => {
    await service.close()
  })

  it('when captions flow, webhooks arrive and requests carry credentials, then no secret ever reaches the logs', async () => {
    const captionIds: string[] = []
    // A caption completed by GoAPI's own webhooks, its create and webhook payloads logged at trace level.
    const { caption: completed } = await postCaption(service, {
      authorization: `Bearer ${TEST_GOAPI_KEY}`,
      'x-api-key': TEST_GOAPI_KEY,
    })
    captionIds.push(completed.id)
    expect((await untilFinal(service, completed.id)).status).toBe('completed')

    // Deliveries with the right secret, a wrong one, the signing key as the secret, and a broken body.
    const { caption: other } = await postCaption(service)
    captionIds.push(other.id)
    const taskId = other.goapiTaskId as string
    const right = goapiDelivery({ captionId: other.id, taskId, status: 'processing' })
    expect((await service.app.inject(right)).statusCode).toBe(200)
    const forged = goapiDelivery({ captionId: other.id, taskId, secret: TEST_WEBHOOK_SECRET })
    expect((await service.app.inject(forged)).statusCode).toBe(401)
    const wrongCaption = goapiDelivery({
      captionId: other.id,
      taskId,
      secret: webhookSecretFor(completed.id, [TEST_WEBHOOK_SECRET]),
    })
    expect((await service.app.inject(wrongCaption)).statusCode).toBe(401)
    expect((await service.app.inject({ ...right, payload: { data: { nope: true } } })).statusCode).toBe(400)

    // GoAPI refusing a create, which logs GoAPI's answer.
    Object.assign(service.simulator.faults, { createFailureRate: 1, createFailureStatus: 402 })
    const { caption: refused } = await postCaption(service, { 'x-api-key': TEST_GOAPI_KEY })
    Object.assign(service.simulator.faults, { createFailureRate: 0 })
    captionIds.push(refused.id)
    expect(refused.status).toBe('failed')

    // A request that fails validation while carrying credentials.
    const invalid = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: { authorization: `Bearer ${TEST_GOAPI_KEY}`, 'x-webhook-secret': TEST_WEBHOOK_SECRET },
      payload: { imageUrl: 'nope' },
    })
    expect(invalid.statusCode).toBe(400)

    const raw = service.rawLogs()
    // The logs did record all of this: the check below is not passing on an empty log.
    for (const id of captionIds) expect(raw).toContain(id)

    expect(raw).not.toContain(TEST_GOAPI_KEY)
    expect(raw).not.toContain(TEST_WEBHOOK_SECRET)
    for (const id of captionIds) {
      const secret = webhookSecretFor(id, [TEST_WEBHOOK_SECRET])
      expect(raw).not.toContain(secret)
      expect(raw).not.toContain(secret.slice(secret.indexOf('.') + 1))
    }
  })
})
