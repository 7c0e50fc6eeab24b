import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../helpers/service.js'

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
})
