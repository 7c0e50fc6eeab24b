import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../helpers/service.js'

/** Where a row version lies: its heap page, from its ctid. */
const PAGE_OF = `(ctid::text::point)[0]`

describe('how captions lie on disk as the history grows', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { neverFinishRate: 1 } })
  })
  afterAll(async () => {
    await service.simulator.close()
    await service.close()
  })

  const post = async (n: number) => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: `https://images.example.com/storage/${n}.png` },
    })
    expect(reply.statusCode).toBe(202)
    return reply.json<{ id: string }>().id
  }

  it('when captions are made one after another, then their ids are UUIDs version 7, in the order they were made', async () => {
    const before = Date.now()
    const ids: string[] = []
    for (let n = 0; n < 20; n++) ids.push(await post(n))
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const millis = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)
      expect(millis).toBeGreaterThanOrEqual(before)
      expect(millis).toBeLessThanOrEqual(Date.now())
    }
    expect([...ids].sort()).toEqual(ids)
  })

  it('when the pages of a history written before had gaps, then new captions go together at the end of the table, not one to a gap', async () => {
    const { rows: options } = await service.deps.sql.query<{ reloptions: string[] | null }>(
      `SELECT reloptions FROM pg_class WHERE oid = 'captions'::regclass`,
    )
    const kept = options[0]?.reloptions ?? []
    // A finished history written before the table kept room free: four rows to a page, each page left with a
    // gap of about 1.6 KB once vacuumed, room for a new caption but not for one and a fifth of the page.
    await service.deps.sql.query('ALTER TABLE captions SET (fillfactor = 100)')
    await service.deps.sql.query(
      `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption, created_at,
          updated_at, completed_at, submit_state)
        SELECT gen_random_uuid(), 'history', 'completed', 'https://images.example.com/old/' || n || '.png',
          'Descriptive', 'any', repeat('x', 1480), now() - interval '30 days', now() - interval '30 days',
          now() - interval '30 days', 'accepted'
        FROM generate_series(1, 2000) AS n`,
    )
    await service.deps.sql.query(`ALTER TABLE captions RESET (fillfactor)`)
    if (kept.length > 0) await service.deps.sql.query(`ALTER TABLE captions SET (${kept.join(', ')})`)
    const { rows: layout } = await service.deps.sql.query<{ pages: string; rows: string }>(
      `SELECT count(DISTINCT ${PAGE_OF}) AS pages, count(*) AS rows FROM captions WHERE caller = 'history'`,
    )
    await service.deps.sql.query('VACUUM captions')
    const ids: string[] = []
    for (let n = 0; n < 60; n++) ids.push(await post(1000 + n))
    const { rows } = await service.deps.sql.query<{ pages: string; gaps: string }>(
      `SELECT count(DISTINCT ${PAGE_OF}) AS pages,
          count(DISTINCT ${PAGE_OF}) FILTER (WHERE ${PAGE_OF} < $2) AS gaps
        FROM captions WHERE id = ANY($1::uuid[])`,
      [ids, Number(layout[0]?.pages)],
    )
    expect(kept).toContain('fillfactor=80')
    // The history is what the test meant it to be: four rows a page.
    expect(Number(layout[0]?.rows) / Number(layout[0]?.pages)).toBeCloseTo(4, 1)
    // Without room kept free on each page, each new caption takes a gap of its own (60 pages).
    expect(Number(rows[0]?.gaps)).toBe(0)
    expect(Number(rows[0]?.pages)).toBeLessThanOrEqual(20)
  })
})
