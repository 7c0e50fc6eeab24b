import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CaptionReply, writeCounts } from '../helpers/callers.js'
import { type ErrorBody, expectErrorReply } from '../helpers/http.js'
import { startTestService, type TestService } from '../helpers/service.js'
import {
  ACCEPTED_CALLBACK_URLS,
  ACCEPTED_IMAGE_URLS,
  CALLBACK_ALLOWED_HOSTS,
  REFUSED_CALLBACK_URLS,
  REFUSED_IMAGE_URLS,
} from '../helpers/url-cases.js'

const IMAGE = 'https://images.example.com/cat.png'

function post(service: TestService, payload: Record<string, unknown>) {
  return service.app.inject({
    method: 'POST',
    url: '/captions',
    // With a key too: a refused request must not leave one behind either.
    headers: { 'idempotency-key': randomUUID() },
    payload,
  })
}

/**
 * A refusal of `field`: 400, nothing written, GoAPI never asked; then the error names the field in its
 * message and its details, with code validation_failed. The writes are checked first, so a wrong error
 * shape cannot hide a write.
 */
async function expectRefused(service: TestService, payload: Record<string, unknown>, field: string) {
  const before = await writeCounts(service)
  const reply = await post(service, payload)
  expect(reply.statusCode).toBe(400)
  expect(await writeCounts(service)).toEqual(before)
  expect(service.simulator.tasks.size).toBe(before.tasks)
  const body = reply.json() as ErrorBody
  expect(body.message).toContain(field)
  expectErrorReply(reply, 400, 'validation_failed')
  expect(body.details?.[0]?.field).toBe(field)
}

async function expectAccepted(service: TestService, payload: Record<string, unknown>) {
  const tasks = service.simulator.tasks.size
  const reply = await post(service, payload)
  expect(reply.statusCode).toBe(202)
  const caption = reply.json() as CaptionReply
  expect(caption.imageUrl).toBe(payload.imageUrl)
  expect(service.simulator.tasks.size).toBe(tasks + 1)
  return caption
}

describe('imageUrl in real mode', () => {
  let service: TestService
  beforeAll(async () => {
    // No webhooks: accepted captions stay as they are, and nothing else writes while a test counts.
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  it.each(REFUSED_IMAGE_URLS)(
    'when imageUrl carries %s (%s), then 400 names imageUrl, nothing is written and GoAPI is not called',
    async (_, imageUrl) => {
      await expectRefused(service, { imageUrl }, 'imageUrl')
    },
  )

  it.each(ACCEPTED_IMAGE_URLS)(
    'when imageUrl is %s (%s), then 202 and GoAPI is asked',
    async (_, imageUrl) => {
      await expectAccepted(service, { imageUrl })
    },
  )

  it('when a refused imageUrl carries credentials, then the reply does not repeat them', async () => {
    const reply = await post(service, { imageUrl: 'https://user:hunter2-secret@images.example.com/cat.png' })
    expect(reply.statusCode).toBe(400)
    expect(reply.body).not.toContain('hunter2-secret')
  })
})

describe(`callbackUrl with CALLBACK_ALLOWED_HOSTS=${CALLBACK_ALLOWED_HOSTS.join(',')}`, () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      env: { CALLBACK_ALLOWED_HOSTS: CALLBACK_ALLOWED_HOSTS.join(',') },
      faults: { dropWebhookRate: 1 },
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  it.each(ACCEPTED_CALLBACK_URLS)('when callbackUrl is %s (%s), then 202', async (_, callbackUrl) => {
    const caption = await expectAccepted(service, { imageUrl: IMAGE, callbackUrl })
    const row = await service.deps.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
    expect(row.callbackUrl).toBe(callbackUrl)
  })

  it.each(REFUSED_CALLBACK_URLS)(
    'when callbackUrl is %s (%s), then 400 names callbackUrl and nothing is written',
    async (_, callbackUrl) => {
      await expectRefused(service, { imageUrl: IMAGE, callbackUrl }, 'callbackUrl')
    },
  )
})

describe("callbackUrl with CALLBACK_ALLOWED_HOSTS=''", () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ env: { CALLBACK_ALLOWED_HOSTS: '' }, faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  it.each([
    ...ACCEPTED_CALLBACK_URLS,
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['a public name', 'https://hooks.example.com/caption'],
  ])('when callbackUrl is %s (%s), then 400 names callbackUrl', async (_, callbackUrl) => {
    await expectRefused(service, { imageUrl: IMAGE, callbackUrl }, 'callbackUrl')
  })

  it('when no callbackUrl is given, then the caption is accepted', async () => {
    await expectAccepted(service, { imageUrl: IMAGE })
  })
})
