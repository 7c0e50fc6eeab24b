import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retention } from '../../src/work/jobs/retention.js'
import { PRUNE_CHUNK_ROWS, pruneFinished } from '../../src/work/retention.repository.js'
import { createWorker } from '../../src/work/worker.js'
import { seedCaption } from '../helpers/seed-captions.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

const DAY_MS = 24 * 60 * 60 * 1000
const OLD = new Date(Date.now() - 100 * DAY_MS)

describe('the retention sweep over a large backlog', () => {
  let service: TestService

  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service?.close()
  })

  /**
   * `count` captions of `caller` finished about 100 days ago (many at the same instant: a chunk's last
   * one shares its completed_at with the next chunk's first), each with an event for a tenth of them.
   */
  async function seedExpired(caller: string, count: number): Promise<void> {
    await service.deps.sql.query(
      `WITH made AS (
        INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption, created_at,
            updated_at, completed_at, goapi_tasks)
          SELECT gen_random_uuid(), $1, CASE WHEN n % 4 = 0 THEN 'failed' ELSE 'completed' END::caption_status,
            'https://images.example.com/old/' || n || '.png', 'Descriptive', 'any', 'old', $2, $2,
            $2::timestamptz + make_interval(mins => n % 7), 1
          FROM generate_series(1, $3::int) AS n
          RETURNING id)
      INSERT INTO callback_events (id, caption_id, type, body, created_at, retired_at)
        SELECT gen_random_uuid(), id, 'caption.completed', '{}', $2, CASE WHEN random() < 0.5 THEN $2::timestamptz END
        FROM made WHERE random() < 0.1`,
      [caller, OLD, count],
    )
  }
  const expiredOf = async (caller: string) =>
    (
      await service.deps.sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM captions WHERE caller = $1 AND completed_at < $2',
        [caller, new Date(Date.now() - 90 * DAY_MS)],
      )
    ).rows[0]?.n
  const erasedUsageOf = async (caller: string) =>
    (
      await service.deps.sql.query(
        'SELECT captions, failed, goapi_tasks AS "goapiTasks" FROM erased_usage WHERE caller = $1',
        [caller],
      )
    ).rows

  it('when a sweep is stopped between chunks, then it ends with what it deleted, and the next sweep deletes the rest over several chunks, keeping what is recent and counting usage', async () => {
    await seedExpired('erin', 250)
    const recent = await seedCaption(service.deps.sql, {
      caller: 'erin',
      createdAt: new Date(),
      goapiTasks: 1,
    })
    const cutoff = new Date(Date.now() - 90 * DAY_MS)
    const stop = new AbortController()
    const first = await pruneFinished(service.deps.sql, cutoff, () => stop.abort(), {
      chunkRows: 100,
      pauseMinMs: 0,
      signal: stop.signal,
    })
    expect(first?.captions).toBe(100)
    expect(await expiredOf('erin')).toBe(150)

    const chunks: number[] = []
    const rest = await pruneFinished(service.deps.sql, cutoff, (pruned) => chunks.push(pruned.captions), {
      chunkRows: 100,
      pauseMinMs: 0,
    })
    expect(rest?.captions).toBe(150)
    expect(chunks.slice(0, 2)).toEqual([100, 50])
    expect(await expiredOf('erin')).toBe(0)
    const events = await service.deps.sql.query(
      'SELECT count(*)::int AS n FROM callback_events e LEFT JOIN captions c ON c.id = e.caption_id WHERE c.id IS NULL AND e.caption_id IS NOT NULL',
    )
    expect(events.rows[0].n).toBe(0)
    const stays = await service.deps.sql.query('SELECT 1 FROM captions WHERE id = $1', [recent])
    expect(stays.rowCount).toBe(1)
    // 1 in 4 failed (n % 4 = 0), every one with one GoAPI task.
    expect(await erasedUsageOf('erin')).toEqual([{ captions: 250, failed: 62, goapiTasks: 250 }])
  })

  it('when a backlog is being pruned, then a worker round goes on without waiting for the sweep, and a stop ends the sweep between chunks', async () => {
    const backlog = 3 * PRUNE_CHUNK_ROWS
    await seedExpired('frank', backlog)
    const worker = createWorker(service.deps, { jobs: [retention] })
    await worker.runOnce()
    // The round has started the sweep and returned: the backlog is still (mostly) there.
    expect(await expiredOf('frank')).toBeGreaterThan(PRUNE_CHUNK_ROWS)
    // Another round while it sweeps does not start a second one (nor wait for it).
    await worker.runOnce()
    const stopStarted = performance.now()
    await worker.stop(10_000)
    const stopMs = performance.now() - stopStarted
    expect(stopMs).toBeLessThan(5_000)
    const left = await expiredOf('frank')
    expect(left).toBeGreaterThan(0)

    // The next sweep goes on where this one ended.
    const again = createWorker(service.deps, { jobs: [retention] })
    await again.runOnce()
    await eventually(async () => ((await expiredOf('frank')) === 0 ? true : undefined), 30_000)
    await again.stop(5_000)
    expect((await erasedUsageOf('frank'))[0]?.captions).toBe(backlog)
  })
})
