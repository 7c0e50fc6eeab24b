import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authEnv, bearer, CALLERS } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { startTestService, type TestService } from '../helpers/service.js'

describe('GET /metrics', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { dropWebhookRate: 1 }, env: authEnv() })
  })
  afterAll(async () => {
    await service.close()
  })

  const scrape = async () => {
    const response = await service.app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/plain')
    return response.body
  }

  it('when captions are posted and webhooks arrive, then requests, GoAPI calls and webhooks are counted by outcome', async () => {
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: bearer('alice'),
      payload: { imageUrl: 'https://images.example.com/metrics.png' },
    })
    expect(posted.statusCode).toBe(202)
    const caption = posted.json() as { id: string; goapiTaskId: string }
    const webhook = await service.app.inject(
      goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId }),
    )
    expect(webhook.statusCode).toBe(200)

    const text = await scrape()
    expect(text).toMatch(
      /caption_http_requests_total\{route="\/captions",method="POST",status_code="202",caller="alice"\} 1/,
    )
    expect(text).toMatch(/caption_goapi_calls_total\{operation="create",outcome="created"\} 1/)
    expect(text).toMatch(/caption_webhooks_total\{outcome="applied"\} 1/)
    expect(text).toMatch(/caption_captions_open\{status="pending"\} 0/)
    expect(text).toMatch(/process_resident_memory_bytes \d+/)
  })

  it('when captions finish and webhooks are forged or malformed, then each is counted where it happened', async () => {
    const counter = (text: string, pattern: RegExp) => Number(text.match(pattern)?.[1] ?? 0)
    const before = await scrape()
    const completedBefore = counter(
      before,
      /caption_captions_finished_total\{status="completed",code=""\} (\d+)/,
    )
    const createdBefore = counter(before, /caption_captions_created_total (\d+)/)

    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: bearer('alice'),
      payload: { imageUrl: 'https://images.example.com/metrics-finished.png' },
    })
    const caption = posted.json() as { id: string; goapiTaskId: string }
    const forged = await service.app.inject(
      goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId, secret: 'forged' }),
    )
    expect(forged.statusCode).toBe(401)
    const malformed = await service.app.inject({
      method: 'POST',
      url: '/webhooks/goapi',
      headers: { 'content-type': 'application/json' },
      payload: '{"data":',
    })
    expect(malformed.statusCode).toBe(400)
    expect(
      (await service.app.inject(goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId })))
        .statusCode,
    ).toBe(200)

    const text = await scrape()
    expect(counter(text, /caption_captions_created_total (\d+)/)).toBe(createdBefore + 1)
    expect(counter(text, /caption_captions_finished_total\{status="completed",code=""\} (\d+)/)).toBe(
      completedBefore + 1,
    )
    expect(text).toMatch(/caption_webhooks_total\{outcome="unauthorized"\} [1-9]/)
    expect(text).toMatch(/caption_webhooks_total\{outcome="invalid"\} [1-9]/)
    expect(text).toMatch(
      /caption_goapi_call_duration_seconds_count\{operation="create",outcome="created"\} [1-9]/,
    )
    expect(text).toMatch(/caption_oldest_open_caption_age_seconds \d/)
    expect(text).toMatch(/caption_work_due\{kind="step"\} \d+/)
    expect(text).toMatch(/caption_work_due\{kind="callback"\} \d+/)
    expect(text).toMatch(/caption_work_due\{kind="slot"\} \d+/)
  })

  it('when a caption is still in motion, then the open gauge counts it by status', async () => {
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: bearer('alice'),
      payload: { imageUrl: 'https://images.example.com/metrics-open.png' },
    })
    expect(posted.statusCode).toBe(202)
    expect(await scrape()).toMatch(/caption_captions_open\{status="pending"\} 1/)
  })

  it('when metrics are scraped, then no token or secret is in them', async () => {
    const text = await scrape()
    for (const token of Object.values(CALLERS)) expect(text).not.toContain(token)
    expect(text).not.toContain('test-webhook-secret')
    expect(text).not.toContain('test-goapi-key')
  })
})
