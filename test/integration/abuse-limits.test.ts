import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authEnv,
  bearer,
  type CallerName,
  type CaptionReply,
  getAs,
  postAs,
  uniqueImageUrl,
  writeCounts,
} from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply, expectValidationError } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

const LIMIT = 3

/** Spends `caller`'s allowance of POST /captions; returns the captions made. */
async function spend(service: TestService, caller: CallerName | undefined, remoteAddress?: string) {
  const made: CaptionReply[] = []
  for (let index = 0; index < LIMIT; index++) {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: caller ? bearer(caller) : {},
      payload: { imageUrl: uniqueImageUrl('limits') },
      ...(remoteAddress ? { remoteAddress } : {}),
    })
    expect(reply.statusCode).toBe(202)
    made.push(reply.json() as CaptionReply)
  }
  return made
}

function expectRateLimited(reply: Awaited<ReturnType<TestService['app']['inject']>>) {
  const body = expectErrorReply(reply, 429, 'rate_limited')
  const retryAfter = Number(reply.headers['retry-after'])
  expect(Number.isInteger(retryAfter)).toBe(true)
  expect(retryAfter).toBeGreaterThan(0)
  expect(retryAfter).toBeLessThanOrEqual(60)
  return body
}

describe(`RATE_LIMIT_READS_PER_MINUTE=${LIMIT}`, () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      env: { ...authEnv(), RATE_LIMIT_READS_PER_MINUTE: String(LIMIT) },
      faults: { dropWebhookRate: 1 },
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  const read = (caller: CallerName, url: string) => service.app.inject({ url, headers: bearer(caller) })

  it('when a caller reads GET /usage a 4th time within the minute, then 429 rate_limited, while another caller and its creates go on', async () => {
    for (let index = 0; index < LIMIT; index++) expect((await read('alice', '/usage')).statusCode).toBe(200)
    expectRateLimited(await read('alice', '/usage'))
    expect((await read('bob', '/usage')).statusCode).toBe(200)
    const created = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: bearer('alice'),
      payload: { imageUrl: uniqueImageUrl('reads') },
    })
    expect(created.statusCode).toBe(202)
  })

  it("when a caller lists its captions a 4th time within the minute, then 429 rate_limited, and another route's reads are counted apart", async () => {
    for (let index = 0; index < LIMIT; index++)
      expect((await read('carol', '/captions')).statusCode).toBe(200)
    expectRateLimited(await read('carol', '/captions'))
    expect((await read('carol', '/batches')).statusCode).toBe(200)
  })
})

describe(`RATE_LIMIT_PER_MINUTE=${LIMIT} with callers`, () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      env: { ...authEnv(), RATE_LIMIT_PER_MINUTE: String(LIMIT) },
      faults: { dropWebhookRate: 1 },
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when a caller posts a 4th caption within the minute, then 429 rate_limited with retry-after and nothing is written', async () => {
    await spend(service, 'alice')
    const before = await writeCounts(service)
    const imageUrl = uniqueImageUrl('limits-refused')
    const refused = await postAs(service, 'alice', { imageUrl }, { 'idempotency-key': randomUUID() })
    expectRateLimited(refused)
    expect(await writeCounts(service)).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
  })

  it("when one caller has spent its allowance, then another caller's POST is still accepted", async () => {
    await spend(service, 'bob')
    expectRateLimited(await postAs(service, 'bob'))
    const other = await postAs(service, 'carol')
    expect(other.statusCode).toBe(202)
  })

  it('when a caller has spent its allowance, then its GET routes still answer 200, many times over', async () => {
    const [caption] = (await spend(service, 'dave')) as [CaptionReply]
    expectRateLimited(await postAs(service, 'dave'))
    for (let index = 0; index < 10; index++) {
      expect((await getAs(service, 'dave', '/captions')).statusCode).toBe(200)
      expect((await getAs(service, 'dave', `/captions/${caption.id}`)).statusCode).toBe(200)
    }
  })

  it('when GoAPI sends 10 webhooks, then none is limited', async () => {
    // Alice has spent her allowance above; webhooks for her caption still come through.
    const caption = (await service.db.caption.findFirstOrThrow({
      where: { caller: 'alice', goapiTaskId: { not: null } },
    })) as { id: string; goapiTaskId: string }
    const statuses: number[] = []
    for (let index = 0; index < 10; index++) {
      const status = index < 9 ? 'processing' : 'completed'
      const reply = await service.app.inject(
        goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId, status }),
      )
      statuses.push(reply.statusCode)
    }
    expect(statuses).toEqual(Array(10).fill(200))
    expect((await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })).status).toBe(
      'completed',
    )
  })

  it('when the Node server is built, then its request, header and keep-alive timeouts are set', () => {
    const server = service.app.server
    expect(server.requestTimeout).toBeGreaterThan(0)
    expect(server.headersTimeout).toBeGreaterThan(0)
    expect(server.keepAliveTimeout).toBeGreaterThan(0)
  })

  it('when GET /captions asks for limit=101, then 400 names limit', async () => {
    expectValidationError(await getAs(service, 'carol', '/captions?limit=101'), 'limit')
  })

  it('when metadata is over 16 KiB, then 400 names metadata', async () => {
    const metadata = { blob: 'x'.repeat(16 * 1024) }
    expectValidationError(
      await postAs(service, 'carol', { imageUrl: uniqueImageUrl('limits'), metadata }),
      'metadata',
    )
  })
})

describe(`RATE_LIMIT_PER_MINUTE=${LIMIT} without callers (AUTH_DISABLED)`, () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) },
      faults: { dropWebhookRate: 1 },
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when one address spends the allowance, then it gets 429 while another address is still accepted', async () => {
    await spend(service, undefined, '203.0.113.7')
    const refused = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: uniqueImageUrl('limits') },
      remoteAddress: '203.0.113.7',
    })
    expectRateLimited(refused)
    const other = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: uniqueImageUrl('limits') },
      remoteAddress: '203.0.113.8',
    })
    expect(other.statusCode).toBe(202)
  })
})

describe('load shedding with OVERLOAD_HEAP_USED_MB=16', () => {
  let service: TestService
  beforeAll(async () => {
    // Any running Node process holds more than 16 MB of heap: the service is overloaded from its first sample.
    service = await startTestService({ env: { OVERLOAD_HEAP_USED_MB: '16' }, faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when the heap is over the limit, then POST /captions answers 503 overloaded with retry-after, writing nothing', async () => {
    // under-pressure samples about once a second: the first requests may still get through.
    await eventually(async () => ((await postAs(service, undefined)).statusCode === 503 ? true : undefined))
    const before = await writeCounts(service)
    const imageUrl = uniqueImageUrl('overloaded')
    const shed = await postAs(service, undefined, { imageUrl }, { 'idempotency-key': randomUUID() })
    const body = expectErrorReply(shed, 503)
    expect(Number(shed.headers['retry-after'])).toBeGreaterThan(0)
    expect(await writeCounts(service)).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
    expect(body.code).toBe('overloaded')
  })

  it('when the service is shedding load, then /healthz still answers 200', async () => {
    await eventually(async () => ((await postAs(service, undefined)).statusCode === 503 ? true : undefined))
    const health = await service.app.inject({ method: 'GET', url: '/healthz' })
    expect(health.statusCode).toBe(200)
    expect(health.json()).toEqual({ status: 'ok' })
  })

  it('when the service is shedding load, then /readyz answers 503 overloaded in the one error shape, not 500', async () => {
    await eventually(async () => ((await postAs(service, undefined)).statusCode === 503 ? true : undefined))
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
    expect(expectErrorReply(ready, 503).code).toBe('overloaded')
  })
})

describe('the event-loop check (OVERLOAD_EVENT_LOOP_DELAY_MS)', () => {
  /** Holds this process's event loop, as a long synchronous task (or a machine descheduling it) would. */
  const holdEventLoop = (ms: number) => {
    const until = Date.now() + ms
    while (Date.now() < until) {}
  }

  it('when it is 0 and the event loop is held past a sampling interval, then nothing is shed', async () => {
    const service = await startTestService({ env: { OVERLOAD_EVENT_LOOP_DELAY_MS: '0' } })
    try {
      holdEventLoop(1_500)
      // The check samples about once a second: two samples after the hold, nothing was shed.
      const until = Date.now() + 2_500
      while (Date.now() < until) {
        expect((await postAs(service, undefined)).statusCode).toBe(202)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } finally {
      await service.close()
    }
  })

  it('when it is 50 and the event loop is held past it, then POST /captions is shed with 503 overloaded, and served again after', async () => {
    const service = await startTestService({ env: { OVERLOAD_EVENT_LOOP_DELAY_MS: '50' } })
    try {
      const shed = await eventually(async () => {
        holdEventLoop(1_500)
        await new Promise((resolve) => setTimeout(resolve, 50))
        const reply = await postAs(service, undefined)
        return reply.statusCode === 503 ? reply : undefined
      }, 15_000)
      expect(expectErrorReply(shed, 503).code).toBe('overloaded')
      await eventually(async () => ((await postAs(service, undefined)).statusCode === 202 ? true : undefined))
    } finally {
      await service.close()
    }
  })
})

describe('RESEND_RATE_LIMIT_PER_MINUTE=2 with callers', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ env: { ...authEnv(), RESEND_RATE_LIMIT_PER_MINUTE: '2' } })
  })
  afterAll(async () => {
    await service?.close()
  })

  const resend = (caller: CallerName, path: string) =>
    service.app.inject({ method: 'POST', url: path, headers: bearer(caller), payload: {} })

  it.each([
    ['/captions/{id}/deliveries/retry', (id: string) => `/captions/${id}/deliveries/retry`],
    ['/batches/{id}/deliveries/retry', (id: string) => `/batches/${id}/deliveries/retry`],
  ])(
    'when a caller asks %s a 3rd time within the minute, then 429 rate_limited, and another caller is still answered',
    async (_, path) => {
      const url = path(randomUUID())
      expectErrorReply(await resend('alice', url), 404, 'not_found')
      expectErrorReply(await resend('alice', url), 404, 'not_found')
      const body = expectRateLimited(await resend('alice', url))
      expect(body.message).toContain('callback resends')
      expectErrorReply(await resend('bob', url), 404, 'not_found')
    },
  )
})
