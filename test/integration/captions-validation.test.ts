import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CAPTION_LENGTHS, PROMPT_STYLES } from '../../src/goapi/task.js'
import { expectErrorReply, expectValidationError } from '../helpers/http.js'
import { startTestService, type TestService } from '../helpers/service.js'

const IMAGE = 'https://images.example.com/validation/cat.png'
const METADATA_LIMIT = 16 * 1024

function postCaption(service: TestService, payload: unknown) {
  return service.app.inject({ method: 'POST', url: '/captions', payload: payload as object })
}

function postRaw(service: TestService, body: string, contentType = 'application/json') {
  return service.app.inject({
    method: 'POST',
    url: '/captions',
    headers: { 'content-type': contentType },
    payload: body,
  })
}

/** Metadata whose JSON is exactly `bytes` long. */
function metadataOfBytes(bytes: number): Record<string, string> {
  const overhead = JSON.stringify({ k: '' }).length
  return { k: 'x'.repeat(bytes - overhead) }
}

/** `levels` containers nested in one another (`{"a":{"a":{}}}` or `[[[]]]`), built without recursion. */
function nested(levels: number, kind: 'object' | 'array'): unknown {
  let value: unknown = kind === 'object' ? {} : []
  for (let level = 1; level < levels; level++) value = kind === 'object' ? { a: value } : [value]
  return value
}

/** The JSON text of {@link nested}, for depths JSON.stringify cannot reach. */
function nestedText(levels: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`
    : `${'['.repeat(levels)}${']'.repeat(levels)}`
}

function urlOfLength(length: number): string {
  const prefix = 'https://images.example.com/'
  return `${prefix}${'a'.repeat(length - prefix.length)}`
}

describe('POST /captions refusals', () => {
  // This service only ever sees refused requests: any row or GoAPI task in it is a refusal that leaked.
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterEach(async () => {
    expect(await service.db.caption.count()).toBe(0)
    expect(service.simulator.counters.createRequests).toBe(0)
  })
  afterAll(async () => {
    await service.close()
  })

  it('when imageUrl is missing, then 400 names imageUrl', async () => {
    expectValidationError(await postCaption(service, { promptStyle: 'Descriptive' }), 'imageUrl')
  })

  it.each([
    ['not a URL', 'a picture of a cat'],
    ['an ftp:// URL', 'ftp://images.example.com/cat.png'],
    ['a relative URL', '/images/cat.png'],
    ['a scheme with no host', 'https://'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a number', 42],
    ['one character over 2048', urlOfLength(2049)],
  ])('when imageUrl is %s, then 400 names imageUrl', async (_, imageUrl) => {
    const reply = await postCaption(service, { imageUrl })
    const body = expectValidationError(reply, 'imageUrl')
    expect(body.code).toBe('validation_failed')
  })

  it.each([
    ['a style that does not exist', 'Poetic'],
    ['a known style in the wrong case', 'descriptive'],
    ['empty', ''],
    ['a number', 3],
  ])('when promptStyle is %s, then 400 names promptStyle', async (_, promptStyle) => {
    expectValidationError(await postCaption(service, { imageUrl: IMAGE, promptStyle }), 'promptStyle')
  })

  it.each([
    ['below 20', '15'],
    ['above 260', '270'],
    ['not a step of 10', '25'],
    ['a number rather than a string', 50],
    ['an unknown word', 'huge'],
    ['empty', ''],
  ])('when captionLength is %s, then 400 names captionLength', async (_, captionLength) => {
    expectValidationError(await postCaption(service, { imageUrl: IMAGE, captionLength }), 'captionLength')
  })

  it.each([
    ['an ftp:// URL', 'ftp://hooks.example.com/done'],
    ['not a URL', 'call me maybe'],
  ])('when callbackUrl is %s, then 400 names callbackUrl', async (_, callbackUrl) => {
    expectValidationError(await postCaption(service, { imageUrl: IMAGE, callbackUrl }), 'callbackUrl')
  })

  it.each([
    ['an array', ['order', 42]],
    ['a string', 'order 42'],
    ['null', null],
    ['a number', 42],
  ])('when metadata is %s, then 400 names metadata', async (_, metadata) => {
    expectValidationError(await postCaption(service, { imageUrl: IMAGE, metadata }), 'metadata')
  })

  it('when metadata is one byte over 16 KiB as JSON, then 400 names metadata', async () => {
    const metadata = metadataOfBytes(METADATA_LIMIT + 1)
    expectValidationError(await postCaption(service, { imageUrl: IMAGE, metadata }), 'metadata')
  })

  it('when metadata nests 33 levels, then 400 validation_failed says metadata may nest at most 32', async () => {
    const reply = await postCaption(service, { imageUrl: IMAGE, metadata: nested(33, 'object') })
    const error = expectErrorReply(reply, 400, 'validation_failed')
    expect(error.message).toBe('metadata: must nest at most 32 levels')
    expect(error.details).toEqual([{ field: 'metadata', message: 'must nest at most 32 levels' }])
  })

  it.each([
    [2000, 'object'],
    [2000, 'array'],
    [5000, 'object'],
    [5000, 'array'],
  ] as const)(
    'when metadata nests %i levels of %ss, then 400 names metadata, not a 500',
    async (levels, kind) => {
      const metadata = kind === 'object' ? nestedText(levels, kind) : `{"a":${nestedText(levels - 1, kind)}}`
      const reply = await postRaw(service, `{"imageUrl":"${IMAGE}","metadata":${metadata}}`)
      const error = expectErrorReply(reply, 400, 'validation_failed')
      expect(error.message).toBe('metadata: must nest at most 32 levels')
    },
  )

  it('when a 15 KB body nests metadata 7000 levels deep, then 400 names metadata, not a 500', async () => {
    const body = `{"imageUrl":"${IMAGE}","metadata":{"a":${nestedText(7000, 'array')}}}`
    expect(body.length).toBeLessThan(15 * 1024)
    const error = expectErrorReply(await postRaw(service, body), 400, 'validation_failed')
    expect(error.message).toBe('metadata: must nest at most 32 levels')
  })

  it.each(['imageUrl', 'promptStyle', 'captionLength', 'callbackUrl', 'colour'])(
    'when %s holds arrays nested 5000 levels, then 400 names it, not a 500',
    async (field) => {
      const fields = field === 'imageUrl' ? '' : `"imageUrl":"${IMAGE}",`
      const reply = await postRaw(service, `{${fields}"${field}":${nestedText(5000, 'array')}}`)
      expectValidationError(reply, field)
    },
  )

  it('when the body has a field the API does not know, then 400 names that field', async () => {
    const error = expectValidationError(
      await postCaption(service, { imageUrl: IMAGE, colour: 'blue' }),
      'colour',
    )
    expect(error.code).toBe('validation_failed')
    expect(error.message).toBe('colour: is not a known field')
    expect(error.details).toEqual([{ field: 'colour', message: 'is not a known field' }])
  })

  it('when a field is wrong and another unknown, then both are named, each in its own detail', async () => {
    const reply = await postCaption(service, { imageUrl: 'https:///cat.png', extra: 1 })
    const error = expectErrorReply(reply, 400, 'validation_failed')
    expect(error.message).toBe('imageUrl: must have a host; extra: is not a known field')
    expect(error.details).toEqual([
      { field: 'imageUrl', message: 'must have a host' },
      { field: 'extra', message: 'is not a known field' },
    ])
  })

  it('when the body has several fields the API does not know, then each is named in its own detail', async () => {
    const reply = await postCaption(service, { imageUrl: IMAGE, colour: 'blue', size: 2, imageURL: IMAGE })
    const error = expectErrorReply(reply, 400, 'validation_failed')
    expect(error.details).toEqual([
      { field: 'colour', message: 'is not a known field' },
      { field: 'size', message: 'is not a known field' },
      { field: 'imageURL', message: 'is not a known field' },
    ])
    expect(error.message).toBe(
      'colour: is not a known field; size: is not a known field; imageURL: is not a known field',
    )
  })

  it.each([
    ['a JSON array', '[{"imageUrl":"https://images.example.com/cat.png"}]'],
    ['a JSON string', '"https://images.example.com/cat.png"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
  ])('when the body is %s, then 400 says the body must be an object', async (_, body) => {
    const error = expectErrorReply(await postRaw(service, body), 400)
    expect(error.message).toMatch(/body/i)
  })

  it.each([
    ['cut short', '{"imageUrl": "https://images.example.com/cat.png"'],
    ['with a trailing comma', '{"imageUrl": "https://images.example.com/cat.png",}'],
    ['not JSON at all', 'imageUrl=https://images.example.com/cat.png'],
  ])('when the JSON is malformed (%s), then 400 with code invalid_json', async (_, body) => {
    expectErrorReply(await postRaw(service, body), 400, 'invalid_json')
  })

  it('when the body is empty with a JSON content type, then 400 with code invalid_json', async () => {
    expectErrorReply(await postRaw(service, ''), 400, 'invalid_json')
  })

  it('when the body is over 1 MiB, then 413 with code payload_too_large', async () => {
    const body = JSON.stringify({ imageUrl: IMAGE, metadata: { blob: 'x'.repeat(1024 * 1024) } })
    const error = expectErrorReply(await postRaw(service, body), 413, 'payload_too_large')
    expect(error.message).toBe('the body is larger than the 1 MiB limit')
  })

  it('when the content type is text/plain, then 415', async () => {
    const body = JSON.stringify({ imageUrl: IMAGE })
    const error = expectErrorReply(await postRaw(service, body, 'text/plain'), 415)
    expect(error.code).toBe('unsupported_media_type')
    expect(error.message).toContain('send the body as application/json')
  })

  it('when the content type is one no parser knows (application/xml), then 415 unsupported_media_type', async () => {
    const body = `<caption><imageUrl>${IMAGE}</imageUrl></caption>`
    const error = expectErrorReply(
      await postRaw(service, body, 'application/xml'),
      415,
      'unsupported_media_type',
    )
    expect(error.message).toContain('send the body as application/json')
  })

  it.each([
    ['at the top level', `{"imageUrl":"${IMAGE}","__proto__":{"polluted":true}}`, '__proto__'],
    ['inside metadata', `{"imageUrl":"${IMAGE}","metadata":{"__proto__":{"polluted":true}}}`, '__proto__'],
    ['escaped', `{"imageUrl":"${IMAGE}","metadata":{"\\u005f_proto__":{"polluted":true}}}`, '__proto__'],
    [
      'as constructor.prototype',
      `{"imageUrl":"${IMAGE}","metadata":{"constructor":{"prototype":{"x":1}}}}`,
      'constructor.prototype',
    ],
  ])(
    'when the JSON carries a prototype key %s, then 400 says so and nothing is polluted',
    async (_, body, key) => {
      const error = expectErrorReply(await postRaw(service, body), 400, 'validation_failed')
      expect(error.message).toBe(`body: must not contain the key ${key}`)
      expect(error.details).toEqual([{ field: 'body', message: `must not contain the key ${key}` }])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
  )

  it('when metadata has a key named constructor holding no prototype, then it is not mistaken for one', async () => {
    const reply = await postRaw(service, `{"imageUrl":"${IMAGE}","metadata":{"constructor":{"x":1}},"y":1}`)
    expect(expectErrorReply(reply, 400, 'validation_failed').message).toBe('y: is not a known field')
  })
})

describe('GET /captions refusals', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service.close()
  })

  it.each(['not-a-uuid', '12345', `${randomUUID()}x`])(
    'when the id %j is not a UUID, then 400 names id',
    async (id) => {
      const reply = await service.app.inject({ method: 'GET', url: `/captions/${id}` })
      expectValidationError(reply, 'id')
    },
  )

  it('when no caption has the id, then 404 with code not_found', async () => {
    const id = randomUUID()
    const reply = await service.app.inject({ method: 'GET', url: `/captions/${id}` })
    const error = expectErrorReply(reply, 404, 'not_found')
    expect(error.message).toContain(id)
  })

  it.each(['0', '101', 'abc', '2.5', '-1'])('when limit is %j, then 400 names limit', async (limit) => {
    const reply = await service.app.inject({ method: 'GET', url: `/captions?limit=${limit}` })
    expectValidationError(reply, 'limit')
  })

  it('when status is not a caption status, then 400 names status', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/captions?status=bogus' })
    expectValidationError(reply, 'status')
  })

  it.each([
    ['random text', 'not-a-cursor'],
    ['base64 of something else', Buffer.from('hello world').toString('base64url')],
    ['an object', Buffer.from('{"createdAt":"2025-01-01T00:00:00.000Z"}').toString('base64url')],
    ['a bad date', Buffer.from(JSON.stringify(['yesterday', randomUUID()])).toString('base64url')],
    ['a bad id', Buffer.from(JSON.stringify([new Date().toISOString(), 'x'])).toString('base64url')],
  ])('when the cursor is %s, then 400 with code invalid_cursor', async (_, cursor) => {
    const reply = await service.app.inject({ method: 'GET', url: `/captions?cursor=${cursor}` })
    const error = expectErrorReply(reply, 400, 'invalid_cursor')
    expect(error.message).toContain('cursor')
  })

  it.each([
    ['10,000 characters long', 'A'.repeat(10_000)],
    ['513 characters long', 'A'.repeat(513)],
    ['empty', ''],
    ['not base64url', '%E2%9C%93%21%21'],
    ['JSON of a number', Buffer.from('42').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('when the cursor is %s, then every paged route answers 400 invalid_cursor', async (_, cursor) => {
    const created = await service.app.inject({
      method: 'POST',
      url: '/batches',
      payload: { items: [{ imageUrl: 'https://images.example.com/cursor/1.png' }] },
    })
    expect(created.statusCode).toBe(202)
    const batchId = created.json<{ id: string }>().id
    for (const path of ['/captions', '/batches', `/batches/${batchId}/captions`]) {
      const reply = await service.app.inject({ method: 'GET', url: `${path}?cursor=${cursor}` })
      const error = expectErrorReply(reply, 400, 'invalid_cursor')
      expect(error.message, path).toContain('cursor')
    }
  })

  it('when the query has a parameter the API does not know, then 400 names it', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/captions?colour=blue' })
    const error = expectValidationError(reply, 'colour')
    expect(error.message).toBe('colour: is not a known field')
    expect(error.details).toEqual([{ field: 'colour', message: 'is not a known field' }])
  })

  it('when the query has several parameters the API does not know, then each is named in its own detail', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/captions?colour=blue&limit=5&page=2' })
    const error = expectErrorReply(reply, 400, 'validation_failed')
    expect(error.details).toEqual([
      { field: 'colour', message: 'is not a known field' },
      { field: 'page', message: 'is not a known field' },
    ])
  })

  it.each([
    ['GET', '/nothing-here'],
    ['GET', `/captions/${randomUUID()}/more`],
    ['DELETE', '/nothing-here'],
  ] as const)('when %s %s has no route, then 404 with the same error shape', async (method, url) => {
    const reply = await service.app.inject({ method, url })
    const error = expectErrorReply(reply, 404, 'route_not_found')
    expect(error.message).toContain(url)
    expect(reply.headers.allow).toBeUndefined()
  })

  it.each([
    ['DELETE', '/captions', 'GET, HEAD, POST'],
    ['PUT', '/captions?limit=1', 'GET, HEAD, POST'],
    ['PUT', `/captions/${randomUUID()}`, 'DELETE, GET, HEAD'],
    ['POST', `/captions/${randomUUID()}`, 'DELETE, GET, HEAD'],
    ['PATCH', '/captions/not-even-a-uuid', 'DELETE, GET, HEAD'],
    ['PATCH', '/captions/', 'DELETE, GET, HEAD'],
    ['GET', '/webhooks/goapi', 'POST'],
    ['PATCH', '/healthz', 'GET, HEAD'],
  ] as const)(
    'when %s %s uses a method the path does not have, then 405 with Allow: %s',
    async (method, url, allow) => {
      const reply = await service.app.inject({ method, url })
      const error = expectErrorReply(reply, 405, 'method_not_allowed')
      expect(reply.headers.allow).toBe(allow)
      expect(error.message).toBe(`${method} is not allowed on ${url.split('?')[0]}; use ${allow}`)
    },
  )
})

describe('POST /captions acceptance', () => {
  let service: TestService
  beforeAll(async () => {
    // Only the create answer matters here; the simulated webhooks would just add noise.
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  /** Posts a caption and checks what GoAPI was asked for. */
  async function accepted(payload: Record<string, unknown>) {
    const reply = await postCaption(service, payload)
    expect(reply.statusCode).toBe(202)
    const caption = reply.json()
    const task = service.simulator.tasks.get(caption.goapiTaskId)
    expect(task).toBeDefined()
    return { caption, input: task?.task.input }
  }

  it.each(PROMPT_STYLES)('when promptStyle is %j, then it is accepted and sent to GoAPI', async (style) => {
    const { caption, input } = await accepted({ imageUrl: IMAGE, promptStyle: style })
    expect(caption.promptStyle).toBe(style)
    expect(input?.prompt_style).toBe(style)
  })

  it.each(CAPTION_LENGTHS)(
    'when captionLength is %j, then it is accepted and sent to GoAPI',
    async (length) => {
      const { caption, input } = await accepted({ imageUrl: IMAGE, captionLength: length })
      expect(caption.captionLength).toBe(length)
      expect(input?.caption_length).toBe(length)
    },
  )

  it('when the valid values are counted, then there are 12 styles and 31 lengths', () => {
    expect(PROMPT_STYLES).toHaveLength(12)
    expect(CAPTION_LENGTHS).toHaveLength(31)
    expect(CAPTION_LENGTHS).toEqual(expect.arrayContaining(['any', 'very long', '20', '130', '260']))
  })

  it('when imageUrl is exactly 2048 characters, then it is accepted', async () => {
    const imageUrl = urlOfLength(2048)
    const { caption, input } = await accepted({ imageUrl })
    expect(caption.imageUrl).toBe(imageUrl)
    expect(input?.image).toBe(imageUrl)
  })

  it('when imageUrl is plain http, then it is accepted', async () => {
    const { caption } = await accepted({ imageUrl: 'http://images.example.com/plain.png' })
    expect(caption.imageUrl).toBe('http://images.example.com/plain.png')
  })

  it('when metadata is exactly 16 KiB as JSON, then it is accepted and stored as given', async () => {
    const metadata = metadataOfBytes(METADATA_LIMIT)
    const { caption } = await accepted({ imageUrl: IMAGE, metadata })
    expect(caption.metadata).toEqual(metadata)
    const row = await service.db.caption.findUnique({ where: { id: caption.id } })
    expect(row?.metadata).toEqual(metadata)
  })

  it('when metadata nests exactly 32 levels, then it is accepted and stored as given', async () => {
    const metadata = nested(32, 'object')
    const { caption } = await accepted({ imageUrl: IMAGE, metadata })
    expect(caption.metadata).toEqual(metadata)
    const row = await service.db.caption.findUnique({ where: { id: caption.id } })
    expect(row?.metadata).toEqual(metadata)
  })

  it('when nested metadata and a callbackUrl are given, then they are kept as sent', async () => {
    const metadata = { orderId: 7, tags: ['a', 'b'], nested: { deep: { ok: true } }, nothing: null }
    const { caption } = await accepted({
      imageUrl: IMAGE,
      metadata,
      callbackUrl: 'http://127.0.0.1:9/captions',
    })
    expect(caption.metadata).toEqual(metadata)
  })
})
