import { randomUUID } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authEnv,
  bearer,
  CALLERS,
  type CaptionReply,
  postAs,
  uniqueImageUrl,
  writeCounts,
} from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { startTestService, type TestService } from '../helpers/service.js'

const REALM = 'Bearer realm="caption-service"'
const INVALID_TOKEN = `${REALM}, error="invalid_token"`
/** A well-formed token no caller holds. */
const STRANGER_TOKEN = 'stranger-token-Xy81QwErTy5UiOp'

describe('caller authentication on the captions API', () => {
  let service: TestService
  /** Every reply of this file, for proving no token ever comes back. */
  const replies: { headers: Record<string, unknown>; body: string }[] = []

  beforeAll(async () => {
    // GoAPI's webhooks are dropped: the only deliveries are the ones these tests send.
    service = await startTestService({ env: authEnv(['alice', 'bob']), faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  async function send(options: InjectOptions) {
    const reply = await service.app.inject(options)
    replies.push({ headers: reply.headers, body: reply.body })
    return reply
  }

  /** One request per captions route, with the given headers. */
  const routes: [string, (headers: Record<string, string>) => Promise<Awaited<ReturnType<typeof send>>>][] = [
    [
      'POST /captions',
      (headers) =>
        send({ method: 'POST', url: '/captions', headers, payload: { imageUrl: uniqueImageUrl('auth') } }),
    ],
    ['GET /captions', (headers) => send({ method: 'GET', url: '/captions', headers })],
    ['GET /captions/:id', (headers) => send({ method: 'GET', url: `/captions/${randomUUID()}`, headers })],
  ]

  describe('without a usable token', () => {
    it.each(routes)(
      'when %s comes without Authorization, then 401 unauthorized with a Bearer challenge',
      async (_, request) => {
        const reply = await request({})
        const body = expectErrorReply(reply, 401, 'unauthorized')
        expect(body.error).toBe('Unauthorized')
        expect(reply.headers['www-authenticate']).toBe(REALM)
      },
    )

    it.each([
      ['Basic credentials', `Basic ${Buffer.from(`alice:${CALLERS.alice}`).toString('base64')}`],
      ['Bearer alone', 'Bearer'],
      ['Bearer and a space', 'Bearer '],
      ['two tokens', `Bearer ${CALLERS.alice} ${CALLERS.bob}`],
      ['the token without a scheme', CALLERS.alice],
      ['the token after another scheme', `Token ${CALLERS.alice}`],
      ['an empty header', ''],
    ])('when Authorization holds %s, then every captions route answers 401', async (_, authorization) => {
      for (const [, request] of routes) {
        const reply = await request({ authorization })
        expectErrorReply(reply, 401, 'unauthorized')
        expect(String(reply.headers['www-authenticate'])).toMatch(/^Bearer realm="caption-service"/)
      }
    })

    it.each([
      ['a token no caller holds', STRANGER_TOKEN],
      ["alice's token with a character changed", `${CALLERS.alice.slice(0, -1)}X`],
      ["alice's token with a character more", `${CALLERS.alice}x`],
      ["alice's token cut short", CALLERS.alice.slice(0, -1)],
      ["alice's token in upper case", CALLERS.alice.toUpperCase()],
    ])(
      'when the bearer token is %s, then 401 with error="invalid_token" on every route',
      async (_, token) => {
        for (const [, request] of routes) {
          const reply = await request({ authorization: `Bearer ${token}` })
          const body = expectErrorReply(reply, 401, 'unauthorized')
          expect(reply.headers['www-authenticate']).toBe(INVALID_TOKEN)
          expect(body.message).not.toContain(token)
        }
      },
    )

    it('when a POST without a token also has an invalid body, then 401 comes before validation', async () => {
      const reply = await send({ method: 'POST', url: '/captions', payload: { imageUrl: 'not a url' } })
      expectErrorReply(reply, 401, 'unauthorized')
    })

    it('when a POST is refused with 401, then nothing is written and GoAPI is not called', async () => {
      const before = await writeCounts(service)
      const imageUrl = uniqueImageUrl('auth-refused')
      const missing = await send({
        method: 'POST',
        url: '/captions',
        headers: { 'idempotency-key': randomUUID() },
        payload: { imageUrl },
      })
      expectErrorReply(missing, 401, 'unauthorized')
      const wrong = await send({
        method: 'POST',
        url: '/captions',
        headers: { authorization: `Bearer ${STRANGER_TOKEN}`, 'idempotency-key': randomUUID() },
        payload: { imageUrl },
      })
      expectErrorReply(wrong, 401, 'unauthorized')
      expect(await writeCounts(service)).toEqual(before)
      expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
    })
  })

  describe('with a right token', () => {
    it('when a caller posts with its token, then 202, and it reads the caption and its list with 200', async () => {
      const created = await send({
        method: 'POST',
        url: '/captions',
        headers: bearer('alice'),
        payload: { imageUrl: uniqueImageUrl('auth-ok') },
      })
      expect(created.statusCode).toBe(202)
      const caption = created.json() as CaptionReply
      expect((await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })).caller).toBe('alice')

      const read = await send({ method: 'GET', url: `/captions/${caption.id}`, headers: bearer('alice') })
      expect(read.statusCode).toBe(200)
      expect(read.json()).toMatchObject({ id: caption.id })

      const list = await send({ method: 'GET', url: '/captions', headers: bearer('alice') })
      expect(list.statusCode).toBe(200)
      expect((list.json() as { items: CaptionReply[] }).items.map((item) => item.id)).toContain(caption.id)
    })

    it('when the scheme is spelled in lower case, then the token is still accepted (schemes are case-insensitive)', async () => {
      const reply = await send({
        method: 'GET',
        url: '/captions',
        headers: { authorization: `bearer ${CALLERS.bob}` },
      })
      expect(reply.statusCode).toBe(200)
    })
  })

  describe('routes that take no caller token', () => {
    it.each([['/healthz'], ['/readyz'], ['/openapi.json']])(
      'when %s is asked without a token, then 200',
      async (url) => {
        const reply = await send({ method: 'GET', url })
        expect(reply.statusCode).toBe(200)
        expect(reply.headers['www-authenticate']).toBeUndefined()
      },
    )

    it('when GoAPI delivers a valid webhook without a caller token, then it is applied', async () => {
      const created = await postAs(service, 'alice', { imageUrl: uniqueImageUrl('auth-webhook') })
      expect(created.statusCode).toBe(202)
      const caption = created.json() as CaptionReply
      const reply = await send(
        goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId as string, text: 'A fox.' }),
      )
      expect(reply.statusCode).toBe(200)
      expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
      expect(await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })).toMatchObject({
        status: 'completed',
        caption: 'A fox.',
      })
    })
  })

  describe('tokens and caller names in logs and replies', () => {
    it("when a caller posts, then the request's log lines name the caller and never its token", async () => {
      const requestId = `auth-log-${randomUUID()}`
      const reply = await postAs(
        service,
        'bob',
        { imageUrl: uniqueImageUrl('auth-log') },
        {
          'x-request-id': requestId,
        },
      )
      expect(reply.statusCode).toBe(202)
      const caption = reply.json() as CaptionReply
      const lines = service.logs.filter((line) => line.reqId === requestId)
      // Fastify's "incoming request" line is written before the caller is known; every later line names it.
      const afterAuth = lines.filter((line) => line.msg !== 'incoming request')
      expect(afterAuth.length).toBeGreaterThanOrEqual(2)
      expect(afterAuth.filter((line) => line.caller !== 'bob')).toEqual([])
      expect(afterAuth.some((line) => JSON.stringify(line).includes(caption.id))).toBe(true)
      expect(JSON.stringify(lines)).not.toContain(CALLERS.bob)
    })

    it('when a token is refused, then the refusal is logged without the token', async () => {
      const requestId = `auth-refused-log-${randomUUID()}`
      const reply = await send({
        method: 'GET',
        url: '/captions',
        headers: { authorization: `Bearer ${STRANGER_TOKEN}`, 'x-request-id': requestId },
      })
      expect(reply.statusCode).toBe(401)
      const lines = service.logs.filter((line) => line.reqId === requestId)
      expect(lines.some((line) => line.code === 'unauthorized')).toBe(true)
      expect(JSON.stringify(lines)).not.toContain(STRANGER_TOKEN)
    })

    it('when callers use right and wrong tokens, then no token appears in any reply or anywhere in the logs', async () => {
      const created = await send({
        method: 'POST',
        url: '/captions',
        headers: bearer('alice'),
        payload: { imageUrl: uniqueImageUrl('auth-secrets') },
      })
      expect(created.statusCode).toBe(202)
      const id = (created.json() as CaptionReply).id
      expect(
        (await send({ method: 'GET', url: `/captions/${id}`, headers: bearer('alice') })).statusCode,
      ).toBe(200)
      expect((await send({ method: 'GET', url: `/captions/${id}`, headers: bearer('bob') })).statusCode).toBe(
        404,
      )
      const wrong = { authorization: `Bearer ${STRANGER_TOKEN}` }
      expect((await send({ method: 'GET', url: '/captions', headers: wrong })).statusCode).toBe(401)
      // Every reply of this file is checked, the ones above and those of earlier tests alike.
      expect(replies.length).toBeGreaterThanOrEqual(4)
      const raw = service.rawLogs()
      expect(raw).toContain('"caller":"alice"')
      expect(raw).toContain('"caller":"bob"')
      const secrets = [CALLERS.alice, CALLERS.bob, STRANGER_TOKEN]
      for (const secret of secrets) {
        expect(raw).not.toContain(secret)
        for (const reply of replies) {
          expect(reply.body).not.toContain(secret)
          expect(JSON.stringify(reply.headers)).not.toContain(secret)
        }
      }
    })
  })
})

/** With no tokens a web page could drive the API through DNS rebinding: only this machine's names may. */
describe('the captions API with caller authentication off', () => {
  let open: TestService
  let withTokens: TestService

  beforeAll(async () => {
    ;[open, withTokens] = await Promise.all([
      startTestService({ env: { AUTH_DISABLED: 'true' }, faults: { dropWebhookRate: 1 } }),
      startTestService({ env: authEnv(['alice']), faults: { dropWebhookRate: 1 } }),
    ])
  })
  afterAll(async () => {
    await Promise.all([open?.close(), withTokens?.close()])
  })

  const callerRoutes = (host: string): InjectOptions[] => [
    { method: 'POST', url: '/captions', headers: { host }, payload: { imageUrl: uniqueImageUrl('host') } },
    { method: 'GET', url: '/captions', headers: { host } },
    { method: 'GET', url: `/captions/${randomUUID()}`, headers: { host } },
    { method: 'GET', url: '/batches', headers: { host } },
    { method: 'GET', url: '/usage', headers: { host } },
  ]

  it.each([
    'attacker.example',
    'attacker.example:3000',
    '127.0.0.1.attacker.example',
    'localhost.attacker.example:3000',
    '192.168.1.20:3000',
    '[::2]:3000',
  ])(
    'when Host is %s, then every caller route answers 421 host_not_allowed and writes nothing',
    async (host) => {
      const before = await writeCounts(open)
      for (const request of callerRoutes(host)) {
        const body = expectErrorReply(await open.app.inject(request), 421, 'host_not_allowed')
        expect(body.error).toBe('Misdirected Request')
        expect(body.message).toContain(host)
      }
      expect(await writeCounts(open)).toEqual(before)
    },
  )

  it.each([
    'localhost',
    'localhost:3000',
    '127.0.0.1',
    '127.0.0.1:8080',
    '[::1]',
    '[::1]:3000',
    'LOCALHOST:3000',
  ])('when Host is %s, then the caller routes answer as usual', async (host) => {
    const reply = await open.app.inject({ method: 'GET', url: '/captions', headers: { host } })
    expect(reply.statusCode, reply.body).toBe(200)
  })

  it('when probes or GoAPI call under another Host, then health, readiness and the webhook answer as before', async () => {
    // Kubernetes probes send the pod's address; GoAPI sends PUBLIC_BASE_URL's host.
    const host = '10.1.2.3:3000'
    expect((await open.app.inject({ url: '/healthz', headers: { host } })).statusCode).toBe(200)
    expect((await open.app.inject({ url: '/readyz', headers: { host } })).statusCode).toBe(200)
    const forged = await open.app.inject({
      ...goapiDelivery({ captionId: randomUUID(), taskId: 'task' }),
      headers: { host: 'captions.example.com' },
    })
    expectErrorReply(forged, 401, 'webhook_unauthorized')
  })

  it('when callers authenticate with tokens, then any Host is answered', async () => {
    const reply = await withTokens.app.inject({
      method: 'GET',
      url: '/captions',
      headers: { host: 'captions.internal.example', ...bearer('alice') },
    })
    expect(reply.statusCode, reply.body).toBe(200)
  })
})
