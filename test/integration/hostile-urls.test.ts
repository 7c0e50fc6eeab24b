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
    const row = await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
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

describe('imageUrl and callbackUrl as typed', () => {
  let service: TestService
  beforeAll(async () => {
    // The test service allows callbacks to 127.0.0.1.
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  async function expectRefusedWith(payload: Record<string, unknown>, field: string, reason: string) {
    await expectRefused(service, payload, field)
    const body = (await post(service, payload)).json() as ErrorBody
    expect(body.message).toBe(`${field}: ${reason}`)
    expect(body.details).toEqual([{ field, message: reason }])
  }

  it.each([
    [
      'leading and trailing spaces',
      '  https://images.example.com/a.png  ',
      'must not have leading or trailing whitespace',
    ],
    [
      'a trailing newline',
      'https://images.example.com/a.png\n',
      'must not have leading or trailing whitespace',
    ],
    ['a leading tab', '\thttps://images.example.com/a.png', 'must not have leading or trailing whitespace'],
    [
      'a trailing no-break space',
      'https://images.example.com/a.png\u00a0',
      'must not have leading or trailing whitespace',
    ],
    ['a line break inside', 'https://images.exam\nple.com/a.png', 'must not contain control characters'],
    [
      'a NUL at the end of the query',
      'https://images.example.com/a.png?q=\u0000',
      'must not contain control characters',
    ],
    ['no host before the path', 'https:///a.png', 'must have a host'],
    ['one slash', 'http:/images.example.com/a.png', 'must have a host'],
    ['no slash', 'https:images.example.com/a.png', 'must have a host'],
    ['a scheme and nothing else', 'https://', 'must have a host'],
    ['a query where the host should be', 'https://?q=1', 'must have a host'],
  ])('when imageUrl has %s (%j), then 400 says why and nothing is written', async (_, imageUrl, reason) => {
    await expectRefusedWith({ imageUrl }, 'imageUrl', reason)
  })

  it.each([
    [
      'leading and trailing spaces',
      ' http://127.0.0.1:9/hook ',
      'must not have leading or trailing whitespace',
    ],
    ['no host before the path', 'http:///hook', 'must have a host'],
    ['one slash', 'http:/127.0.0.1:9/hook', 'must have a host'],
  ])(
    'when callbackUrl has %s (%j), then 400 says why and nothing is written',
    async (_, callbackUrl, reason) => {
      await expectRefusedWith({ imageUrl: IMAGE, callbackUrl }, 'callbackUrl', reason)
    },
  )

  it.each([
    [
      'non-ASCII and a space in the path',
      'https://images.example.com/ä b.png',
      'https://images.example.com/%C3%A4%20b.png',
    ],
    [
      'an upper-case scheme and host',
      'HTTPS://Images.Example.COM/Cat.png',
      'https://images.example.com/Cat.png',
    ],
    ['no path', 'https://images.example.com', 'https://images.example.com/'],
    [
      'the default port and dot segments',
      'https://images.example.com:443/a/../cat.png',
      'https://images.example.com/cat.png',
    ],
    ['an IDN host', 'https://bücher.example/cat.png', 'https://xn--bcher-kva.example/cat.png'],
  ])(
    'when imageUrl has %s, then the normalized URL is stored, shown and sent to GoAPI',
    async (_, imageUrl, href) => {
      const reply = await post(service, { imageUrl })
      expect(reply.statusCode).toBe(202)
      const caption = reply.json() as CaptionReply
      expect(caption.imageUrl).toBe(href)
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
      expect(row.imageUrl).toBe(href)
      expect(service.simulator.tasks.get(caption.goapiTaskId as string)?.task.input.image).toBe(href)
      const read = await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })
      expect((read.json() as CaptionReply).imageUrl).toBe(href)
    },
  )

  it('when callbackUrl has non-ASCII and a space in the path, then the normalized URL is stored', async () => {
    const reply = await post(service, { imageUrl: IMAGE, callbackUrl: 'http://127.0.0.1:9/hooks/ä b' })
    expect(reply.statusCode).toBe(202)
    const row = await service.db.caption.findUniqueOrThrow({
      where: { id: (reply.json() as CaptionReply).id },
    })
    expect(row.callbackUrl).toBe('http://127.0.0.1:9/hooks/%C3%A4%20b')
  })

  it('when imageUrl is 2048 characters but longer once percent-encoded, then 400 names imageUrl', async () => {
    const prefix = 'https://images.example.com/'
    const imageUrl = `${prefix}${'ä'.repeat(2048 - prefix.length)}`
    expect(imageUrl).toHaveLength(2048)
    await expectRefusedWith({ imageUrl }, 'imageUrl', 'must be at most 2048 characters once percent-encoded')
  })
})
