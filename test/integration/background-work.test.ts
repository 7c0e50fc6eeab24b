import { afterEach, describe, expect, it } from 'vitest'
import { insertCaption } from '../../src/captions/caption-rows.repository.js'
import type { GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { createWorker } from '../../src/work/worker.js'
import { createTestDatabase } from '../helpers/database.js'
import {
  eventually,
  manualClock,
  startSharedSimulator,
  startTestService,
  type TestService,
  type TestServiceOptions,
} from '../helpers/service.js'
import { tasksFor } from '../helpers/simulator.js'

const SECOND = 1_000
const MINUTE = 60 * SECOND

describe('background work', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function start(options: TestServiceOptions = {}) {
    const clock = manualClock()
    const service = await startTestService({ clock, ...options })
    cleanups.push(() => service.close())
    return { service, clock, worker: createWorker(service.deps) }
  }

  async function post(service: TestService, imageUrl = 'https://images.example.com/cat.png') {
    const response = await service.app.inject({ method: 'POST', url: '/captions', payload: { imageUrl } })
    expect(response.statusCode).toBe(202)
    return response.json() as { id: string; status: string; goapiTaskId: string | null }
  }

  const row = (service: TestService, id: string) => service.db.caption.findUniqueOrThrow({ where: { id } })

  it('when GoAPI answers 429, then the caption waits out the backoff and is submitted once by background work', async () => {
    const { service, clock, worker } = await start({
      faults: { createFailureRate: 1, createFailureStatus: 429 },
    })
    const caption = await post(service)
    expect(caption).toMatchObject({ status: 'queued', goapiTaskId: null })
    const queued = await row(service, caption.id)
    expect(queued).toMatchObject({ submitState: 'refused', submitAttempts: 1, errorCode: null })
    // Retry-After: 1 from GoAPI, and at least the first backoff step.
    expect(queued.nextAttemptAt?.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + SECOND)

    service.simulator.faults.createFailureRate = 0
    await worker.runOnce()
    expect(service.simulator.counters.createRequests).toBe(1)

    clock.advance(5 * MINUTE)
    await worker.runOnce()
    // Submitted once more and taken: GoAPI's processing webhook may already have come.
    const submitted = await row(service, caption.id)
    expect(submitted).toMatchObject({ submitState: 'accepted', submitAttempts: 2, resubmissions: 0 })
    expect(['pending', 'processing']).toContain(submitted.status)
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
  })

  it('when GoAPI answers 5xx with its error body, then the caption is retried rather than failed', async () => {
    const { service, clock, worker } = await start({
      faults: { createFailureRate: 1, createFailureStatus: 500 },
    })
    const caption = await post(service)
    expect(caption.status).toBe('queued')
    service.simulator.faults.createFailureRate = 0
    clock.advance(5 * MINUTE)
    await worker.runOnce()
    // Sent again and taken: pending, or further already when the simulator's webhook was quick.
    expect(await row(service, caption.id)).toMatchObject({ submitState: 'accepted', errorCode: null })
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
  })

  it('when the create call gets no answer but GoAPI made the task, then its webhook adopts the task and nothing is sent twice', async () => {
    const { service, clock, worker } = await start({ faults: { createHangRate: 1 } })
    const caption = await post(service)
    expect((await row(service, caption.id)).submitState).toBe('ambiguous')
    const [task] = tasksFor(service.simulator, caption.id)
    expect(task?.createAnswered).toBe(false)

    const adopted = await eventually(async () => {
      const current = await row(service, caption.id)
      return current.status === 'completed' ? current : undefined
    })
    expect(adopted.goapiTaskId).toBe(task?.task.task_id)

    clock.advance(60 * MINUTE)
    await worker.runOnce()
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
    expect((await row(service, caption.id)).resubmissions).toBe(0)
  })

  it('when the create call gets no answer and no sign of the task comes, then it is sent again only after the wait, and counted', async () => {
    const { service, clock, worker } = await start({
      faults: { createHangRate: 1, dropWebhookRate: 1 },
      env: { GOAPI_RESUBMIT_AFTER_SECONDS: '300' },
    })
    const caption = await post(service)
    expect((await row(service, caption.id)).submitState).toBe('ambiguous')
    service.simulator.faults.createHangRate = 0

    clock.advance(299 * SECOND)
    await worker.runOnce()
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)

    clock.advance(2 * SECOND)
    await worker.runOnce()
    const resent = await row(service, caption.id)
    expect(resent).toMatchObject({ status: 'pending', resubmissions: 1, submitAttempts: 2 })
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(2)
  })

  it('when no webhook ever comes, then polling completes the caption exactly as a webhook would', async () => {
    const { service, clock, worker } = await start({ faults: { dropWebhookRate: 1 } })
    const caption = await post(service)
    expect(caption.status).toBe('pending')
    const [task] = tasksFor(service.simulator, caption.id)
    await eventually(async () => (task?.task.status === 'completed' ? true : undefined))

    await worker.runOnce()
    expect((await row(service, caption.id)).status).toBe('pending')
    expect(service.simulator.counters.getRequests).toBe(0)

    clock.advance(2 * MINUTE)
    await worker.runOnce()
    const read = (await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })).json()
    expect(read).toMatchObject({
      status: 'completed',
      caption: task?.task.output?.text,
      error: null,
      goapiTaskId: task?.task.task_id,
      completedAt: clock.now().toISOString(),
    })
    expect(service.simulator.counters.getRequests).toBe(1)
  })

  it('when GoAPI never finishes, then the caption is polled with growing waits and fails with code timeout at its deadline', async () => {
    const { service, clock, worker } = await start({
      faults: { dropWebhookRate: 1, neverFinishRate: 1 },
      env: { CAPTION_DEADLINE_SECONDS: '3600' },
    })
    const caption = await post(service)
    const waits: number[] = []
    for (let round = 0; round < 40; round++) {
      const before = await row(service, caption.id)
      if (before.status === 'failed') break
      const due = before.nextAttemptAt?.getTime() ?? clock.now().getTime()
      waits.push(due - clock.now().getTime())
      clock.advance(Math.max(0, due - clock.now().getTime()))
      await worker.runOnce()
    }
    const failed = await row(service, caption.id)
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'timeout' })
    expect(failed.completedAt?.getTime()).toBe(failed.createdAt.getTime() + 3600 * SECOND)
    expect(failed.pollAttempts).toBeGreaterThan(3)
    // First ask after GOAPI_POLL_AFTER_SECONDS of quiet, then from GOAPI_POLL_INTERVAL_SECONDS growing.
    expect(waits[0]).toBe(2 * MINUTE)
    expect(waits[1]).toBeGreaterThanOrEqual(15 * SECOND)
    expect(waits[1]).toBeLessThanOrEqual(30 * SECOND)
    expect(waits[5]).toBeGreaterThan(waits[2] as number)
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
  })

  it('when the replica that held a caption was killed before it sent it, then another takes over once the lease runs out', async () => {
    const { service, clock, worker } = await start()
    const id = await insertLeasedCaption(service, clock.now(), 'not_sent')
    await worker.runOnce()
    expect(tasksFor(service.simulator, id)).toHaveLength(0)

    clock.advance(61 * SECOND)
    await worker.runOnce()
    expect(await row(service, id)).toMatchObject({ status: 'pending', resubmissions: 0, leaseOwner: null })
    expect(tasksFor(service.simulator, id)).toHaveLength(1)
  })

  it('when the replica was killed in the middle of the create call, then the caption is treated as maybe sent', async () => {
    const { service, clock, worker } = await start()
    const id = await insertLeasedCaption(service, clock.now(), 'in_flight')
    clock.advance(61 * SECOND)
    await worker.runOnce()
    expect(tasksFor(service.simulator, id)).toHaveLength(0)
    expect((await row(service, id)).nextAttemptAt?.getTime()).toBe(
      clock.now().getTime() - 61 * SECOND + 300 * SECOND,
    )

    clock.advance(300 * SECOND)
    await worker.runOnce()
    // Sent again once: accepted by GoAPI, whose webhooks (processing, even completed) may already have come.
    const resent = await row(service, id)
    expect(resent.resubmissions).toBe(1)
    expect(['pending', 'processing', 'completed']).toContain(resent.status)
    expect(tasksFor(service.simulator, id)).toHaveLength(1)
  })

  async function insertLeasedCaption(service: TestService, now: Date, submitState: 'not_sent' | 'in_flight') {
    // Inserted as the service inserts it (leased, in flight), then set to the state under test.
    const row = await insertCaption(service.deps.sql, {
      id: crypto.randomUUID(),
      caller: '',
      simulated: false,
      imageUrl: 'https://images.example.com/orphan.png',
      promptStyle: 'Descriptive',
      captionLength: 'any',
      callbackUrl: undefined,
      metadata: {},
      now,
      start: {
        kind: 'send',
        deadlineAt: new Date(now.getTime() + 3600 * SECOND),
        lease: { owner: 'killed-replica', until: new Date(now.getTime() + 60 * SECOND) },
      },
      reuse: false,
      reservedCents: 0,
    })
    if (submitState === 'not_sent') {
      await service.db.caption.update({ where: { id: row.id }, data: { submitState } })
    }
    return row.id
  }
})

describe('two replicas on one database', () => {
  let simulator: GoapiSimulator
  const services: TestService[] = []
  afterEach(async () => {
    for (const service of services.splice(0)) await service.close()
    await simulator.close()
  })

  it('when a burst of captions meets GoAPI faults, then every caption ends completed with exactly one paid task', async () => {
    simulator = await startSharedSimulator({
      stepDelayMs: 10,
      createFailureRate: 0.3,
      createFailureStatus: 503,
      dropWebhookRate: 0.5,
      duplicateWebhookRate: 0.3,
    })
    const database = await createTestDatabase()
    const clock = manualClock()
    for (const name of ['replica-a', 'replica-b']) {
      services.push(await startTestService({ simulator, clock, databaseUrl: database.url, workerId: name }))
    }
    const [a, b] = services as [TestService, TestService]
    const ids = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await (i % 2 ? a : b).app.inject({
          method: 'POST',
          url: '/captions',
          payload: { imageUrl: `https://images.example.com/burst-${i}.png` },
        })
        return (response.json() as { id: string }).id
      }),
    )
    const workers = services.map((service) => createWorker(service.deps))
    for (let round = 0; round < 30; round++) {
      const open = await a.db.caption.count({
        where: { id: { in: ids }, status: { notIn: ['completed', 'failed'] } },
      })
      if (open === 0) break
      await new Promise((resolve) => setTimeout(resolve, 100))
      clock.advance(5 * MINUTE)
      await Promise.all(workers.map((worker) => worker.runOnce()))
    }
    const rows = await a.db.caption.findMany({ where: { id: { in: ids } } })
    expect(rows.map((caption) => caption.status)).toEqual(ids.map(() => 'completed'))
    for (const id of ids) expect(tasksFor(simulator, id)).toHaveLength(1)
    expect(rows.every((caption) => caption.resubmissions === 0)).toBe(true)
    for (const service of services.splice(0)) await service.close()
    await database.drop()
  })
})
