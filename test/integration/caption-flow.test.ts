import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

describe('a caption from request to text', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service.close()
  })

  it('when a caption is posted, then it is accepted, submitted once and completed by the webhooks', async () => {
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: 'https://images.example.com/cat.png', metadata: { orderId: 42 } },
    })
    expect(posted.statusCode).toBe(202)
    const caption = posted.json()
    expect(posted.headers.location).toBe(`/captions/${caption.id}`)
    expect(caption).toMatchObject({
      status: 'pending',
      imageUrl: 'https://images.example.com/cat.png',
      promptStyle: 'Descriptive',
      captionLength: 'any',
      caption: null,
      error: null,
      metadata: { orderId: 42 },
      completedAt: null,
    })
    expect(caption.goapiTaskId).toEqual(expect.any(String))

    const done = await eventually(async () => {
      const read = (await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })).json()
      return read.status === 'completed' ? read : undefined
    })
    expect(done.caption).toContain('[simulated caption]')
    expect(done.completedAt).toEqual(expect.any(String))
    expect(
      [...service.simulator.tasks.values()].filter((t) => t.task.task_id === caption.goapiTaskId),
    ).toHaveLength(1)
  })
})
