import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CAPTION_GAUGES_STATEMENT } from '../../src/captions/gauges.repository.js'
import { authEnv, bearer, CALLERS } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { seedCaption } from '../helpers/seed-captions.js'
import { manualClock, startTestService, type TestService } from '../helpers/service.js'

describe('GET /metrics', () => {
  let service: TestService
  beforeAll(async () => {
    // Gauges read afresh on every scrape here; their caching has its own tests below.
    service = await startTestService({
      faults: { dropWebhookRate: 1 },
      env: { ...authEnv(), METRICS_REFRESH_SECONDS: '0.001' },
    })
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
    // Malformed with the caption's own secret: a forged one is refused before its body is read.
    const malformed = await service.app.inject({
      ...goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId }),
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

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

describe('GET /metrics: database gauges and the scrape token', () => {
  const METRICS_TOKEN = 'metrics-token-Zx81QwErTy5Uiop'
  const scraper = { authorization: `Bearer ${METRICS_TOKEN}` }
  const clock = manualClock()
  let service: TestService
  /** Statements /metrics sent to the database for its gauges. */
  let gaugeReadings = 0
  beforeAll(async () => {
    service = await startTestService({ clock, env: { METRICS_TOKEN, METRICS_REFRESH_SECONDS: '5' } })
    const pool = service.deps.sql
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown
    pool.query = ((...args: unknown[]) => {
      if ((args[0] as { name?: string }).name === 'caption-gauges') gaugeReadings++
      return query(...args)
    }) as typeof pool.query
  })
  afterAll(async () => {
    await service.close()
  })

  const scrape = async () => {
    const response = await service.app.inject({ method: 'GET', url: '/metrics', headers: scraper })
    expect(response.statusCode).toBe(200)
    return response.body
  }
  const openPending = (text: string) =>
    Number(text.match(/caption_captions_open\{status="pending"\} (\d+)/)?.[1])

  it('when 20 scrapes arrive at once, then one database statement serves them all', async () => {
    clock.advance(5_000) // whatever an earlier test read is stale now
    const before = gaugeReadings
    const bodies = await Promise.all(Array.from({ length: 20 }, () => scrape()))
    expect(gaugeReadings - before).toBe(1)
    for (const body of bodies) expect(body).toMatch(/caption_work_due\{kind="step"\} \d+/)
  })

  it('when captions open within the refresh interval, then the gauges show them only after it', async () => {
    clock.advance(5_000)
    const before = openPending(await scrape())
    await seedCaption(service.deps.sql, { caller: '', createdAt: clock.now(), status: 'pending' })
    const readings = gaugeReadings

    clock.advance(4_999)
    expect(openPending(await scrape())).toBe(before)
    expect(gaugeReadings).toBe(readings)

    clock.advance(1)
    expect(openPending(await scrape())).toBe(before + 1)
    expect(gaugeReadings).toBe(readings + 1)
  })

  it('when METRICS_TOKEN is set and a scrape has no token or another one, then it is refused with 401', async () => {
    const none = await service.app.inject({ method: 'GET', url: '/metrics' })
    expectErrorReply(none, 401, 'unauthorized')
    expect(none.headers['www-authenticate']).toContain('Bearer')
    const wrong = await service.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer not-the-metrics-token-0000' },
    })
    expectErrorReply(wrong, 401, 'unauthorized')
    expect(wrong.body).not.toContain('caption_')
  })

  it('when the table holds many finished captions, then the open-captions reading uses the partial index', async () => {
    await service.deps.sql.query(
      `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption,
          created_at, updated_at, completed_at)
        SELECT gen_random_uuid(), 'history', 'completed', 'https://images.example.com/old/' || n || '.png',
          'Descriptive', 'any', 'An old caption.', now() - n * interval '1 minute',
          now() - n * interval '1 minute', now() - n * interval '1 minute'
        FROM generate_series(1, 30000) AS n`,
    )
    await service.deps.sql.query('ANALYZE captions')
    const { rows } = await service.deps.sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${CAPTION_GAUGES_STATEMENT}`,
    )
    const nodes: PlanNode[] = []
    const walk = (node: PlanNode) => {
      nodes.push(node)
      for (const child of node.Plans ?? []) walk(child)
    }
    for (const row of rows) walk(row['QUERY PLAN'][0].Plan)
    expect(nodes.map((node) => node['Index Name'])).toContain('captions_open_status_deadline_idx')
    const captionScans = nodes.filter((node) => node['Relation Name'] === 'captions')
    expect(captionScans.map((node) => node['Node Type'])).not.toContain('Seq Scan')
  })
})
