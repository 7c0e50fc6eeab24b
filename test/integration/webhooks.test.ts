import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { startTestService, TEST_WEBHOOK_SECRET, type TestService } from '../helpers/service.js'

type Delivery = ReturnType<typeof goapiDelivery>

describe('POST /webhooks/goapi', () => {
  let service: TestService
  beforeAll(async () => {
    // GoAPI's own webhooks are all dropped: only the deliveries these tests send reach the service.
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  /** A caption accepted by GoAPI (status pending), with the task id GoAPI gave it. */
  async function newCaption() {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: `https://images.example.com/webhooks/${randomUUID()}.png` },
    })
    expect(reply.statusCode).toBe(202)
    const caption = reply.json() as { id: string; goapiTaskId: string; status: string }
    expect(caption.status).toBe('pending')
    expect(caption.goapiTaskId).toEqual(expect.any(String))
    return { id: caption.id, captionId: caption.id, taskId: caption.goapiTaskId }
  }

  function row(id: string) {
    return service.db.caption.findUniqueOrThrow({ where: { id } })
  }

  async function deliver(delivery: Delivery) {
    return service.app.inject(delivery)
  }

  async function deliverOk(delivery: Delivery) {
    const reply = await deliver(delivery)
    expect(reply.statusCode).toBe(200)
    return reply.json() as { received: true; outcome: string }
  }

  /** The delivery with `patch` merged into its task (`data`). */
  function withTask(delivery: Delivery, patch: Record<string, unknown>): Delivery {
    return { ...delivery, payload: { ...delivery.payload, data: { ...delivery.payload.data, ...patch } } }
  }

  describe('authentication', () => {
    it('when x-webhook-secret is missing, then 401 webhook_unauthorized and the caption is unchanged', async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const reply = await deliver(goapiDelivery({ ...caption, secret: null }))
      expectErrorReply(reply, 401, 'webhook_unauthorized')
      expect(await row(caption.id)).toEqual(before)
    })

    it.each([
      ['an arbitrary string', () => 'not-the-secret'],
      ['the signing key itself', () => TEST_WEBHOOK_SECRET],
      ['an empty string', () => ''],
      ['the right shape with a made-up mac', (id: string) => `${id}.${'A'.repeat(43)}`],
      [
        'a secret signed with another key',
        (id: string) => webhookSecretFor(id, ['another-key-0123456789abc']),
      ],
    ])('when the secret is %s, then 401 and the caption is unchanged', async (_, secretFor) => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const reply = await deliver(goapiDelivery({ ...caption, secret: secretFor(caption.id) }))
      expectErrorReply(reply, 401, 'webhook_unauthorized')
      expect(await row(caption.id)).toEqual(before)
    })

    it('when a forged delivery announces a body and sends only its first bytes, then 401 comes at once: the body is never waited for, nor parsed', async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const { port } = new URL(service.baseUrl)
      const socket = connect(Number(port), '127.0.0.1')
      const answer = new Promise<string>((resolve, reject) => {
        let text = ''
        socket.on('data', (chunk) => {
          text += chunk.toString()
          if (text.includes('\r\n\r\n{')) resolve(text)
        })
        socket.on('error', reject)
      })
      socket.write(
        'POST /webhooks/goapi HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `x-webhook-secret: ${caption.id}.forged\r\nContent-Length: 60000\r\n\r\n[[[[[[[[`,
      )
      try {
        expect(await answer).toMatch(/^HTTP\/1\.1 401 /)
      } finally {
        socket.destroy()
      }
      expect(await row(caption.id)).toEqual(before)
    })

    it('when a forged delivery carries a 1 MiB body of nested arrays or a body that is not JSON, then 401, never 400 or 413', async () => {
      const valid = goapiDelivery({ captionId: randomUUID(), taskId: 'task', secret: 'forged' })
      for (const payload of ['['.repeat(1024 * 1024), '{"timestamp": 1, "data": {']) {
        expectErrorReply(
          await deliver({ ...valid, payload } as unknown as Delivery),
          401,
          'webhook_unauthorized',
        )
      }
    })

    it('when a delivery with a valid secret is larger than 64 KiB, then 413 payload_too_large and nothing changes', async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const delivery = withTask(goapiDelivery(caption), { logs: ['x'.repeat(64 * 1024)] })
      const error = expectErrorReply(await deliver(delivery), 413, 'payload_too_large')
      expect(error.message).toBe('the body is larger than the 64 KiB limit')
      expect(await row(caption.id)).toEqual(before)
    })

    it("when caption A's secret comes with caption B's task, then 401 and neither caption changes", async () => {
      const a = await newCaption()
      const b = await newCaption()
      const [beforeA, beforeB] = [await row(a.id), await row(b.id)]
      const reply = await deliver(
        goapiDelivery({
          captionId: b.id,
          taskId: b.taskId,
          secret: webhookSecretFor(a.id, [TEST_WEBHOOK_SECRET]),
        }),
      )
      expectErrorReply(reply, 401, 'webhook_unauthorized')
      expect(await row(b.id)).toEqual(beforeB)
      expect(await row(a.id)).toEqual(beforeA)
    })

    it('when a valid secret names a caption that does not exist, then 200 unknown_task and nothing is written', async () => {
      const captionId = randomUUID()
      const taskId = randomUUID()
      const reply = await deliverOk(goapiDelivery({ captionId, taskId }))
      expect(reply.outcome).toBe('unknown_task')
      expect(await service.db.caption.findUnique({ where: { id: captionId } })).toBeNull()
      expect(await service.db.caption.findMany({ where: { goapiTaskId: taskId } })).toEqual([])
    })

    it("when a caption's valid secret comes with a task id that is not the caption's, then 200 and the caption is unchanged", async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const strangerTask = randomUUID()
      await deliverOk(goapiDelivery({ captionId: caption.id, taskId: strangerTask }))
      expect(await row(caption.id)).toEqual(before)
      expect(await service.db.caption.findMany({ where: { goapiTaskId: strangerTask } })).toEqual([])
    })
  })

  describe('status changes', () => {
    it('when pending, processing and completed arrive in order, then the caption moves forward and keeps the text', async () => {
      const caption = await newCaption()
      expect((await row(caption.id)).status).toBe('pending')

      await deliverOk(goapiDelivery({ ...caption, status: 'pending' }))
      expect((await row(caption.id)).status).toBe('pending')

      expect((await deliverOk(goapiDelivery({ ...caption, status: 'processing' }))).outcome).toBe('applied')
      const processing = await row(caption.id)
      expect(processing).toMatchObject({ status: 'processing', caption: null, completedAt: null })

      const text = 'A tabby cat asleep on a red mat.'
      expect((await deliverOk(goapiDelivery({ ...caption, status: 'completed', text }))).outcome).toBe(
        'applied',
      )
      const completed = await row(caption.id)
      expect(completed).toMatchObject({ status: 'completed', caption: text, errorCode: null })
      expect(completed.completedAt).toBeInstanceOf(Date)

      const read = (await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })).json()
      expect(read).toMatchObject({
        status: 'completed',
        caption: text,
        error: null,
        goapiTaskId: caption.taskId,
      })
      expect(read.completedAt).toBe(completed.completedAt?.toISOString())
    })

    it('when completed arrives twice, then the second is acknowledged and changes nothing', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, text: 'First text.' }))
      const done = await row(caption.id)
      await new Promise((resolve) => setTimeout(resolve, 5))
      const again = await deliverOk(goapiDelivery({ ...caption, text: 'First text.' }))
      expect(again.outcome).toBe('unchanged')
      expect(await row(caption.id)).toEqual(done)
    })

    it('when a second completed carries another text, then the first text stays', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, text: 'The original caption.' }))
      await deliverOk(goapiDelivery({ ...caption, text: 'A rewritten caption.' }))
      expect((await row(caption.id)).caption).toBe('The original caption.')
    })

    it.each(['pending', 'processing', 'staged', 'running'])(
      'when a stale %s arrives after completed, then 200 and the caption stays completed with its text',
      async (stale) => {
        const caption = await newCaption()
        await deliverOk(goapiDelivery({ ...caption, text: 'Done and dusted.' }))
        const done = await row(caption.id)
        const reply = await deliverOk(goapiDelivery({ ...caption, status: stale }))
        expect(reply.outcome).toBe('unchanged')
        expect(await row(caption.id)).toEqual(done)
      },
    )

    it('when a stale pending arrives after processing, then the caption stays processing', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, status: 'processing' }))
      const processing = await row(caption.id)
      await deliverOk(goapiDelivery({ ...caption, status: 'pending' }))
      expect(await row(caption.id)).toEqual(processing)
    })

    it.each(['COMPLETED', 'Completed', ' completed '])(
      'when the status is %j, then it counts as completed',
      async (word) => {
        const caption = await newCaption()
        // The helper only adds output for the lower-case word; GoAPI would send it with any spelling.
        await deliverOk(
          withTask(goapiDelivery({ ...caption, status: word }), { output: { text: 'Upper case.' } }),
        )
        expect(await row(caption.id)).toMatchObject({ status: 'completed', caption: 'Upper case.' })
      },
    )

    it("when failed arrives with GoAPI's message, then the caption fails with goapi_task_failed and that message", async () => {
      const caption = await newCaption()
      const message = 'image download failed: 403 Forbidden'
      await deliverOk(goapiDelivery({ ...caption, status: 'failed', errorMessage: message }))
      const failed = await row(caption.id)
      expect(failed).toMatchObject({
        status: 'failed',
        caption: null,
        errorCode: 'goapi_task_failed',
        errorMessage: message,
      })
      expect(failed.completedAt).toBeInstanceOf(Date)
      const read = (await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })).json()
      expect(read.error).toEqual({ code: 'goapi_task_failed', message })
    })

    it('when failed arrives without any message, then the error still says what happened', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, status: 'failed' }))
      const failed = await row(caption.id)
      expect(failed.status).toBe('failed')
      expect(failed.errorCode).toBe('goapi_task_failed')
      expect(failed.errorMessage).toMatch(/\S/)
    })

    it.each(['cancelled', 'canceled'])('when GoAPI says %s, then the caption fails', async (word) => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, status: word }))
      expect(await row(caption.id)).toMatchObject({ status: 'failed', caption: null })
    })

    it.each([
      ['an empty text', (d: Delivery) => withTask(d, { output: { text: '' } })],
      ['a blank text', (d: Delivery) => withTask(d, { output: { text: '  \n ' } })],
      ['a null text', (d: Delivery) => withTask(d, { output: { text: null } })],
      ['an output with no text', (d: Delivery) => withTask(d, { output: {} })],
      ['a null output', (d: Delivery) => withTask(d, { output: null })],
    ])(
      'when completed comes with %s, then the caption fails with a code that says the text is missing',
      async (_, make) => {
        const caption = await newCaption()
        await deliverOk(make(goapiDelivery(caption)))
        const failed = await row(caption.id)
        expect(failed).toMatchObject({ status: 'failed', caption: null })
        expect(failed.errorCode).toMatch(/empty|output|text/)
        expect(failed.errorCode).not.toBe('goapi_task_failed')
        expect(failed.errorMessage).toMatch(/\S/)
      },
    )

    it('when failed arrives after completed, then the caption stays completed with its text', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, text: 'Finished first.' }))
      const done = await row(caption.id)
      await deliverOk(goapiDelivery({ ...caption, status: 'failed', errorMessage: 'late failure' }))
      expect(await row(caption.id)).toEqual(done)
    })

    it('when completed arrives after failed, then the caption stays failed without a text', async () => {
      const caption = await newCaption()
      await deliverOk(goapiDelivery({ ...caption, status: 'failed', errorMessage: 'it broke' }))
      const failed = await row(caption.id)
      await deliverOk(goapiDelivery({ ...caption, text: 'Too late.' }))
      expect(await row(caption.id)).toEqual(failed)
    })

    it('when the status word is unknown, then 200 and nothing changes', async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const reply = await deliverOk(goapiDelivery({ ...caption, status: 'weird' }))
      expect(reply.outcome).toBe('unchanged')
      expect(await row(caption.id)).toEqual(before)
    })

    it('when 10 deliveries of processing and completed race for one caption, then it ends completed once, with the text', async () => {
      const caption = await newCaption()
      const text = 'Raced to the finish.'
      const deliveries = Array.from({ length: 10 }, (_, index) =>
        goapiDelivery({ ...caption, status: index % 2 === 0 ? 'processing' : 'completed', text }),
      )
      const replies = await Promise.all(deliveries.map((delivery) => deliver(delivery)))
      expect(replies.map((reply) => reply.statusCode)).toEqual(Array(10).fill(200))
      const completedOutcomes = replies
        .filter((_, index) => index % 2 === 1)
        .map((reply) => reply.json().outcome)
      expect(completedOutcomes.filter((outcome) => outcome === 'applied')).toHaveLength(1)
      expect(await row(caption.id)).toMatchObject({ status: 'completed', caption: text })
    })
  })

  describe('payloads', () => {
    it('when the body is malformed JSON, then 400 invalid_json and the caption is unchanged', async () => {
      const caption = await newCaption()
      const before = await row(caption.id)
      const valid = goapiDelivery(caption)
      const reply = await service.app.inject({ ...valid, payload: '{"timestamp": 1, "data": {' })
      expectErrorReply(reply, 400, 'invalid_json')
      expect(await row(caption.id)).toEqual(before)
    })

    it.each([
      ['an empty object', {}],
      ['an empty task', { data: {} }],
      ['a task without a status', { data: { task_id: 'x' } }],
      ['a task with an empty id', { data: { task_id: '', status: 'completed' } }],
      ['null', null],
      ['an array', []],
    ])(
      'when the body is %s with a valid secret, then 400 invalid_webhook_payload and nothing changes',
      async (_, body) => {
        const caption = await newCaption()
        const before = await row(caption.id)
        const valid = goapiDelivery(caption)
        const reply = await service.app.inject({ ...valid, payload: JSON.stringify(body) })
        expectErrorReply(reply, 400, 'invalid_webhook_payload')
        expect(await row(caption.id)).toEqual(before)
      },
    )

    it('when a body that is not a task comes with a wrong secret, then 401: authentication comes first', async () => {
      const caption = await newCaption()
      const valid = goapiDelivery({ ...caption, secret: 'forged' })
      const reply = await service.app.inject({ ...valid, payload: { data: {} } })
      expectErrorReply(reply, 401, 'webhook_unauthorized')
    })

    it('when the delivery carries fields GoAPI added later, then they are tolerated', async () => {
      const caption = await newCaption()
      const delivery = goapiDelivery({ ...caption, text: 'With extras.' })
      const data = delivery.payload.data as Record<string, unknown>
      const extended = {
        ...delivery,
        payload: {
          ...delivery.payload,
          delivery_attempt: 3,
          data: {
            ...data,
            meta: { ...(data.meta as object), failover_triggered: true, region: 'us-east' },
            brand_new_field: { nested: [1, 2, 3] },
            detail: { anything: 'goes' },
          },
        },
      }
      await deliverOk(extended as unknown as Delivery)
      expect(await row(caption.id)).toMatchObject({ status: 'completed', caption: 'With extras.' })
    })

    it.each([
      ['null', null],
      ['an empty list', []],
      ['a list of entries', [{ level: 'info', message: 'started' }]],
    ])('when logs is %s, then the delivery is applied', async (_, logs) => {
      const caption = await newCaption()
      await deliverOk(withTask(goapiDelivery({ ...caption, status: 'processing' }), { logs }))
      expect((await row(caption.id)).status).toBe('processing')
    })

    it('when the task comes bare, not wrapped in {timestamp, data}, then it is applied', async () => {
      const caption = await newCaption()
      const delivery = goapiDelivery({ ...caption, text: 'Unwrapped.' })
      await deliverOk({ ...delivery, payload: delivery.payload.data } as unknown as Delivery)
      expect(await row(caption.id)).toMatchObject({ status: 'completed', caption: 'Unwrapped.' })
    })
  })

  describe('secrets', () => {
    it("when the raw task is stored, then it never holds the caption's webhook secret, and no reply shows it", async () => {
      const caption = await newCaption()
      const secret = webhookSecretFor(caption.id, [TEST_WEBHOOK_SECRET])
      const mac = secret.slice(secret.indexOf('.') + 1)

      // From GoAPI's create answer, which echoes the secret back.
      const afterCreate = await row(caption.id)
      expect(afterCreate.goapiTask).not.toBeNull()
      expect(JSON.stringify(afterCreate.goapiTask)).not.toContain(mac)

      // From a webhook, which carries it too.
      await deliverOk(goapiDelivery({ ...caption, text: 'Secret-free.' }))
      const stored = (await row(caption.id)).goapiTask as {
        config: { webhook_config: Record<string, unknown> }
      }
      expect(JSON.stringify(stored)).not.toContain(mac)
      expect(stored.config.webhook_config.secret).not.toBe(secret)
      expect(stored.config.webhook_config.endpoint).toEqual(expect.any(String))

      const one = await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })
      const list = await service.app.inject({ method: 'GET', url: '/captions?limit=100' })
      for (const reply of [one, list]) {
        expect(reply.statusCode).toBe(200)
        expect(reply.body).not.toContain(mac)
        expect(reply.body).not.toContain(TEST_WEBHOOK_SECRET)
      }
    })
  })
})
