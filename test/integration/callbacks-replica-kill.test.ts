import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import type { GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { createWorker } from '../../src/work/worker.js'
import { type HeldCallback, startSilentReceiver } from '../helpers/callback-receiver.js'
import { createTestDatabase } from '../helpers/database.js'
import {
  eventually,
  freePort,
  manualClock,
  startSharedSimulator,
  startTestService,
  TEST_CALLBACK_SECRETS,
  TEST_GOAPI_KEY,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'
import { type ServiceProcess, spawnService } from '../helpers/service-process.js'

describe('a replica killed while a callback is in flight', () => {
  let simulator: GoapiSimulator | undefined
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined
  let receiver: Awaited<ReturnType<typeof startSilentReceiver>> | undefined
  let replica: ServiceProcess | undefined
  let other: TestService | undefined

  afterAll(async () => {
    replica?.kill()
    await other?.close()
    await simulator?.close()
    await receiver?.close()
    await database?.drop()
  })

  it('when the replica sending a callback is SIGKILLed before the caller answers, then another replica records that attempt and sends the same event again, and nothing is lost', async () => {
    simulator = await startSharedSimulator()
    const simulatorAddress = simulator.app.server.address() as AddressInfo
    database = await createTestDatabase()
    receiver = await startSilentReceiver()
    const port = await freePort()
    replica = spawnService({
      env: {
        DATABASE_URL: database.url,
        GOAPI_API_KEY: TEST_GOAPI_KEY,
        GOAPI_BASE_URL: `http://127.0.0.1:${simulatorAddress.port}`,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        AUTH_DISABLED: 'true',
        CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
        CALLBACK_SIGNING_SECRET: TEST_CALLBACK_SECRETS[0],
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        GOAPI_TIMEOUT_SECONDS: '5',
        WORK_LEASE_SECONDS: '30',
      },
    })
    await replica.ready()
    const posted = await fetch(`${replica.baseUrl}/captions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        imageUrl: `https://images.example.com/replica-kill/${randomUUID()}.png`,
        callbackUrl: receiver.url,
      }),
    })
    expect(posted.status).toBe(202)
    const { id } = (await posted.json()) as { id: string }
    await eventually(async () => (receiver?.received.length === 1 ? true : undefined), 10_000)

    replica.kill()
    await replica.exited

    // Another replica on the same database, whose clock the test moves.
    const clock = manualClock(new Date())
    other = await startTestService({ databaseUrl: database.url, simulator, clock })
    const db = other.db
    // The attempt was counted before it left; it has no outcome, and the dead replica still holds the lease.
    expect(await db.caption.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'completed',
      callbackState: 'pending',
      callbackAttempts: 1,
      leaseOwner: expect.any(String),
    })
    expect(await db.callbackDelivery.findMany({ select: { attempt: true, outcome: true } })).toEqual([
      { attempt: 1, outcome: null },
    ])

    const worker = createWorker(other.deps)
    try {
      // While the dead replica's lease lasts, nobody else sends.
      await worker.runOnce()
      expect(receiver.received).toHaveLength(1)

      receiver.answerFromNowOn()
      clock.advance(31_000)
      await worker.runOnce()
    } finally {
      await worker.stop(1_000)
    }

    const [first, second] = receiver.received as [HeldCallback, HeldCallback]
    expect(receiver.received).toHaveLength(2)
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    expect(second.raw).toBe(first.raw)
    for (const call of [first, second]) {
      expect(
        new Webhook(TEST_CALLBACK_SECRETS[0]).verify(call.raw, call.headers as Record<string, string>),
      ).toEqual(JSON.parse(first.raw))
    }
    const log = (await other.app.inject({ method: 'GET', url: `/captions/${id}/deliveries` })).json() as {
      items: Record<string, unknown>[]
    }
    expect(log.items).toEqual([
      expect.objectContaining({
        eventId: first.headers['webhook-id'],
        attempt: 1,
        statusCode: null,
        outcome: 'failed',
        error: 'interrupted',
      }),
      expect.objectContaining({
        eventId: first.headers['webhook-id'],
        attempt: 2,
        statusCode: 200,
        outcome: 'delivered',
      }),
    ])
    expect(await db.caption.findUniqueOrThrow({ where: { id } })).toMatchObject({
      callbackState: 'delivered',
      callbackAttempts: 2,
      leaseOwner: null,
    })
  }, 60_000)
})
