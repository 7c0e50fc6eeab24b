import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import type { GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { createTestDatabase } from '../helpers/database.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { startSharedSimulator, startTestService, type TestService } from '../helpers/service.js'
import { tasksFor } from '../helpers/simulator.js'

const K1 = 'rotation-key-one-0123456789abcdef'
const K2 = 'rotation-key-two-fedcba9876543210'

interface Caption {
  id: string
  goapiTaskId: string
}

/**
 * Three generations of the service on one database and one GoAPI: WEBHOOK_SECRET=K1, then K2,K1 (K2
 * signs, both verify), then K2 alone. GoAPI's own webhooks are dropped; the test delivers them itself,
 * with the secret GoAPI was given.
 */
describe('WEBHOOK_SECRET rotation', () => {
  let simulator: GoapiSimulator
  let database: { url: string; drop: () => Promise<void> }
  const running: TestService[] = []

  async function start(webhookSecret: string): Promise<TestService> {
    const service = await startTestService({
      simulator,
      databaseUrl: database.url,
      env: { WEBHOOK_SECRET: webhookSecret },
    })
    running.push(service)
    return service
  }

  async function stop(service: TestService) {
    running.splice(running.indexOf(service), 1)
    await service.close()
  }

  async function create(service: TestService): Promise<Caption> {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: `https://images.example.com/rotation/${randomUUID()}.png` },
    })
    expect(reply.statusCode).toBe(202)
    const caption = reply.json() as Caption & { status: string }
    expect(caption.status).toBe('pending')
    return caption
  }

  /** The secret GoAPI was given for the caption, which it echoes in x-webhook-secret. */
  function secretGoapiHolds(caption: Caption): string {
    const [task] = tasksFor(simulator, caption.id)
    expect(task).toBeDefined()
    return task?.task.config.webhook_config.secret as string
  }

  function deliver(service: TestService, caption: Caption, secret: string, text = 'A heron in reeds.') {
    return service.app.inject(
      goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId, secret, text }),
    )
  }

  function row(service: TestService, caption: Caption) {
    return service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
  }

  // Captions made under K1 (one completed under K2,K1, one left for the K2-only service) and under K2,K1.
  let oldToComplete: Caption
  let oldLeftPending: Caption
  let newToComplete: Caption
  let newLeftPending: Caption

  beforeAll(async () => {
    simulator = await startSharedSimulator({ dropWebhookRate: 1 })
    database = await createTestDatabase()
  })
  afterAll(async () => {
    for (const service of [...running]) await service.close()
    await simulator?.close()
    await database?.drop()
  })

  it('when the service runs with K1, then new captions are given K1-derived secrets', async () => {
    const first = await start(K1)
    oldToComplete = await create(first)
    oldLeftPending = await create(first)
    for (const caption of [oldToComplete, oldLeftPending]) {
      expect(secretGoapiHolds(caption)).toBe(webhookSecretFor(caption.id, [K1]))
    }
    await stop(first)
  })

  it("when it restarts with K2,K1, then a K1 caption's webhook is accepted and completes it", async () => {
    const second = await start(`${K2},${K1}`)
    const secret = secretGoapiHolds(oldToComplete)
    expect(secret).toBe(webhookSecretFor(oldToComplete.id, [K1]))

    const reply = await deliver(second, oldToComplete, secret, 'An old heron.')
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
    expect(await row(second, oldToComplete)).toMatchObject({ status: 'completed', caption: 'An old heron.' })
  })

  it('when it runs with K2,K1, then new captions get K2-derived secrets and complete with them', async () => {
    const [second] = running as [TestService]
    newToComplete = await create(second)
    newLeftPending = await create(second)
    for (const caption of [newToComplete, newLeftPending]) {
      const secret = secretGoapiHolds(caption)
      expect(secret).toBe(webhookSecretFor(caption.id, [K2]))
      expect(secret).not.toBe(webhookSecretFor(caption.id, [K1]))
    }

    const reply = await deliver(second, newToComplete, secretGoapiHolds(newToComplete), 'A new heron.')
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
    expect(await row(second, newToComplete)).toMatchObject({ status: 'completed', caption: 'A new heron.' })
    await stop(second)
  })

  it('when it restarts with K2 alone, then a K1-derived secret is refused with 401 and the caption is unchanged', async () => {
    const third = await start(K2)
    const before = await row(third, oldLeftPending)
    expect(before.status).toBe('pending')

    const reply = await deliver(third, oldLeftPending, webhookSecretFor(oldLeftPending.id, [K1]))
    expectErrorReply(reply, 401, 'webhook_unauthorized')
    expect(await row(third, oldLeftPending)).toEqual(before)
  })

  it('when it runs with K2 alone, then K2-derived secrets are still accepted', async () => {
    const [third] = running as [TestService]
    const secret = secretGoapiHolds(newLeftPending)
    expect(secret).toBe(webhookSecretFor(newLeftPending.id, [K2]))
    const reply = await deliver(third, newLeftPending, secret, 'A heron, at last.')
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
    expect(await row(third, newLeftPending)).toMatchObject({
      status: 'completed',
      caption: 'A heron, at last.',
    })

    // And its own new captions are signed with K2.
    const fresh = await create(third)
    expect(secretGoapiHolds(fresh)).toBe(webhookSecretFor(fresh.id, [K2]))
  })
})
