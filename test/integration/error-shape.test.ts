import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { ERROR_KEYS, expectErrorReply } from '../helpers/http.js'
import {
  eventually,
  freePort,
  manualClock,
  startTestService,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'

type Reply = LightMyRequestResponse

/**
 * One of each kind of error the service answers, from the router, the body parser, validation, the
 * use cases, the database, load shedding, the rate limiter and a plain bug, so that one shape can be
 * checked across all of them.
 */
describe('every kind of error', () => {
  let service: TestService
  let limited: TestService
  let overloaded: TestService
  let databaseDown: TestService
  /** The clock of `service`, set to fail to stand in for a bug. */
  let clockFails = false
  const clock = manualClock()
  const seen = new Map<string, Record<string, unknown>>()

  beforeAll(async () => {
    const [main, rateLimited, shedding, down] = await Promise.all([
      startTestService({
        // No task cap: every create is sent within its request (none waits queued for a slot held by a
        // caption of this file, whose tasks never finish), so the slow create below keeps a first
        // request in progress while a second one with its key arrives.
        env: { ...authEnv(['alice', 'bob']), CALLER_BUDGETS: 'bob:0.01', GOAPI_MAX_CONCURRENCY: '0' },
        faults: { createLatencyMs: 300, dropWebhookRate: 1 },
        clock: {
          now: () => {
            if (clockFails) throw new Error('the clock broke')
            return clock.now()
          },
        },
      }),
      startTestService({ env: { RATE_LIMIT_PER_MINUTE: '1' }, faults: { dropWebhookRate: 1 } }),
      startTestService({ env: { OVERLOAD_HEAP_USED_MB: '16' }, faults: { dropWebhookRate: 1 } }),
      freePort().then((port) =>
        startTestService({ databaseUrl: `postgresql://postgres:nobody@127.0.0.1:${port}/captions` }),
      ),
    ])
    service = main
    limited = rateLimited
    overloaded = shedding
    databaseDown = down
  })
  afterAll(async () => {
    await Promise.all([service?.close(), limited?.close(), overloaded?.close(), databaseDown?.close()])
  })

  const alice = () => bearer('alice')

  function postCaption(target: TestService, payload: unknown, headers: Record<string, string> = {}) {
    return target.app.inject({
      method: 'POST',
      url: '/captions',
      headers: { ...alice(), 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })
  }

  function record(reply: Reply, statusCode: number, code: string) {
    const body = expectErrorReply(reply, statusCode, code)
    seen.set(code, body as unknown as Record<string, unknown>)
    return body
  }

  it.each([
    ['validation_failed', 400, () => postCaption(service, { promptStyle: 'Poetic' })],
    ['invalid_json', 400, () => postCaption(service, '{"imageUrl":')],
    [
      'unsupported_media_type',
      415,
      () => postCaption(service, 'imageUrl=x', { 'content-type': 'text/plain' }),
    ],
    [
      'payload_too_large',
      413,
      () => postCaption(service, { imageUrl: uniqueImageUrl(), metadata: { blob: 'x'.repeat(1024 * 1024) } }),
    ],
    [
      'invalid_url',
      400,
      () => service.app.inject({ method: 'GET', url: '/captions/%E0%A4%A', headers: alice() }),
    ],
    ['route_not_found', 404, () => service.app.inject({ method: 'GET', url: '/nothing-here' })],
    ['method_not_allowed', 405, () => service.app.inject({ method: 'DELETE', url: '/captions' })],
    ['unauthorized', 401, () => service.app.inject({ method: 'GET', url: '/captions' })],
    [
      'host_not_allowed',
      421,
      // `limited` runs with caller authentication off.
      () => limited.app.inject({ method: 'GET', url: '/captions', headers: { host: 'rebound.example' } }),
    ],
    [
      'not_found',
      404,
      () => service.app.inject({ method: 'GET', url: `/captions/${randomUUID()}`, headers: alice() }),
    ],
    [
      'invalid_cursor',
      400,
      () => service.app.inject({ method: 'GET', url: '/captions?cursor=not-a-cursor', headers: alice() }),
    ],
    [
      'invalid_idempotency_key',
      400,
      () => postCaption(service, { imageUrl: uniqueImageUrl() }, { 'idempotency-key': 'k'.repeat(256) }),
    ],
    [
      'webhook_unauthorized',
      401,
      () =>
        service.app.inject({ ...goapiDelivery({ captionId: randomUUID(), taskId: 'task' }), headers: {} }),
    ],
    [
      'invalid_webhook_payload',
      400,
      () =>
        service.app.inject({
          method: 'POST',
          url: '/webhooks/goapi',
          headers: { 'x-webhook-secret': webhookSecretFor(randomUUID(), [TEST_WEBHOOK_SECRET]) },
          payload: { timestamp: 1, data: { status: 'completed' } },
        }),
    ],
  ] as const)('when a request meets %s, then %i in the one error shape', async (code, statusCode, send) => {
    record(await send(), statusCode, code)
  })

  it('when a key is reused with another body, then 422 in the one error shape', async () => {
    const key = randomUUID()
    expect(
      (await postCaption(service, { imageUrl: uniqueImageUrl() }, { 'idempotency-key': key })).statusCode,
    ).toBe(202)
    const reply = await postCaption(service, { imageUrl: uniqueImageUrl() }, { 'idempotency-key': key })
    record(reply, 422, 'idempotency_key_reused')
  })

  it('when a key is still being processed, then 409 in the one error shape', async () => {
    const key = randomUUID()
    const payload = { imageUrl: uniqueImageUrl() }
    const first = postCaption(service, payload, { 'idempotency-key': key })
    await eventually(async () =>
      (await service.db.idempotencyKey.count({ where: { key } })) === 1 ? true : undefined,
    )
    record(
      await postCaption(service, payload, { 'idempotency-key': key }),
      409,
      'idempotency_key_in_progress',
    )
    expect((await first).statusCode).toBe(202)
  })

  it('when a re-send is asked for a caption without a callbackUrl, or one not finished, then 400 and 409 in the one error shape', async () => {
    const resend = async (payload: Record<string, unknown>) => {
      const posted = await postCaption(service, { imageUrl: uniqueImageUrl(), ...payload })
      expect(posted.statusCode).toBe(202)
      const { id } = posted.json() as { id: string }
      return service.app.inject({ method: 'POST', url: `/captions/${id}/deliveries/retry`, headers: alice() })
    }
    record(await resend({}), 400, 'no_callback_url')
    // GoAPI's webhooks are dropped here: the caption stays pending.
    record(await resend({ callbackUrl: 'http://127.0.0.1:9/hook' }), 409, 'caption_not_finished')
  })

  it('when a caption GoAPI has accepted is canceled, then 409 in the one error shape', async () => {
    const posted = await postCaption(service, { imageUrl: uniqueImageUrl() })
    expect(posted.json()).toMatchObject({ status: 'pending' })
    const { id } = posted.json() as { id: string }
    const reply = await service.app.inject({
      method: 'POST',
      url: `/captions/${id}/cancel`,
      headers: alice(),
    })
    record(reply, 409, 'caption_already_submitted')
  })

  it('when a caption that has not failed is retried, then 409 in the one error shape', async () => {
    const posted = await postCaption(service, { imageUrl: uniqueImageUrl() })
    const { id } = posted.json() as { id: string }
    const reply = await service.app.inject({ method: 'POST', url: `/captions/${id}/retry`, headers: alice() })
    record(reply, 409, 'caption_not_failed')
  })

  it('when the service fails in a way it does not expect, then 500 in the one error shape', async () => {
    clockFails = true
    try {
      const body = record(await postCaption(service, { imageUrl: uniqueImageUrl() }), 500, 'internal_error')
      expect(body.message).not.toContain('clock')
    } finally {
      clockFails = false
    }
  })

  it("when a caller's daily budget is spent, then 402 in the one error shape", async () => {
    const bob = { ...bearer('bob') }
    expect((await postCaption(service, { imageUrl: uniqueImageUrl() }, bob)).statusCode).toBe(202)
    const body = record(
      await postCaption(service, { imageUrl: uniqueImageUrl() }, bob),
      402,
      'budget_exceeded',
    )
    expect(body.message).toBe(
      'daily budget of $0.01 for caller "bob" exceeded: $0.01 spent today, $0.01 asked',
    )
  })

  it('when a caller is over the rate limit, then 429 in the one error shape', async () => {
    await postCaption(limited, { imageUrl: uniqueImageUrl() })
    record(await postCaption(limited, { imageUrl: uniqueImageUrl() }), 429, 'rate_limited')
  })

  it('when the service sheds load, then 503 in the one error shape', async () => {
    const shed = await eventually(async () => {
      const reply = await postCaption(overloaded, { imageUrl: uniqueImageUrl() })
      return reply.statusCode === 503 ? reply : undefined
    })
    record(shed, 503, 'overloaded')
  })

  it('when the database is unreachable, then 503 in the one error shape', async () => {
    record(await postCaption(databaseDown, { imageUrl: uniqueImageUrl() }), 503, 'database_unavailable')
  })

  it('when every kind has been met, then every error body has exactly the same keys', () => {
    expect([...seen.keys()].sort()).toEqual(
      [
        'budget_exceeded',
        'caption_already_submitted',
        'caption_not_failed',
        'caption_not_finished',
        'database_unavailable',
        'host_not_allowed',
        'idempotency_key_in_progress',
        'idempotency_key_reused',
        'internal_error',
        'invalid_cursor',
        'invalid_idempotency_key',
        'invalid_json',
        'invalid_url',
        'invalid_webhook_payload',
        'method_not_allowed',
        'no_callback_url',
        'not_found',
        'overloaded',
        'payload_too_large',
        'rate_limited',
        'route_not_found',
        'unauthorized',
        'unsupported_media_type',
        'validation_failed',
        'webhook_unauthorized',
      ].sort(),
    )
    for (const [code, body] of seen) {
      expect(Object.keys(body).sort(), code).toEqual(ERROR_KEYS)
      expect(Array.isArray(body.details), code).toBe(true)
      if (code !== 'validation_failed') expect(body.details, code).toEqual([])
    }
  })
})
