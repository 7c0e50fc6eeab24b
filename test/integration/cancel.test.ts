import { afterEach, describe, expect, it } from 'vitest'
import { createWorker, type Worker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startSharedSimulator, startTestService, type TestService } from '../helpers/service.js'

interface CaptionBody {
  id: string
  status: string
  imageUrl: string
  goapiTaskId: string | null
}

interface BatchBody {
  id: string
  status: 'running' | 'completed'
  counts: Record<string, number>
  costUsd: number
}

/** Quick background work: webhooks that never come are made up for by polling within a second. */
const FAST_WORK = {
  WORK_INTERVAL_MS: '50',
  GOAPI_POLL_AFTER_SECONDS: '0.5',
  GOAPI_POLL_INTERVAL_SECONDS: '0.5',
}

const post = (
  service: TestService,
  url: string,
  headers: Record<string, string> = bearer('alice'),
  payload?: object,
) => service.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) })

const read = async <T>(
  service: TestService,
  url: string,
  headers: Record<string, string> = bearer('alice'),
) => (await service.app.inject({ url, headers })).json() as T

/** The GoAPI tasks (each one paid) made for an image. */
const tasksOf = (service: TestService, imageUrl: string) =>
  [...service.simulator.tasks.values()].filter((entry) => entry.task.input.image === imageUrl)

const spentToday = async (service: TestService) =>
  (await read<{ budget: { spentTodayUsd: number } }>(service, '/usage')).budget.spentTodayUsd

describe('cancel', () => {
  const services: TestService[] = []
  const workers: Worker[] = []
  let receiver: CallbackReceiver | undefined

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop(1_000)
    // The simulators first: no webhook is then in flight on a connection that would hold an app's close.
    const stopping = services.splice(0)
    for (const simulator of new Set(stopping.map((service) => service.simulator))) await simulator.close()
    for (const service of stopping) await service.close()
    await receiver?.close()
    receiver = undefined
  })

  it('when a queued caption is canceled, then it is canceled at once, never sent, its hold given back and its caller told caption.canceled; one with GoAPI or finished is refused with 409, another caller gets 404', async () => {
    receiver = await startCallbackReceiver()
    const service = await startTestService({
      env: {
        ...FAST_WORK,
        ...authEnv(['alice', 'bob']),
        GOAPI_MAX_CONCURRENCY: '1',
        CALLER_BUDGETS: 'alice:1.00',
      },
      // GoAPI takes a while: the first caption is still with it when its cancel is asked.
      faults: { stepDelayMs: 1_500 },
    })
    services.push(service)
    // No background work yet: the first caption takes the only slot, the second waits queued.
    const sent = (
      await post(service, '/captions', bearer('alice'), { imageUrl: uniqueImageUrl('sent') })
    ).json()
    const waiting = (
      await post(service, '/captions', bearer('alice'), {
        imageUrl: uniqueImageUrl('waiting'),
        callbackUrl: receiver.urlFor('waiting'),
      })
    ).json() as CaptionBody
    expect(waiting).toMatchObject({ status: 'queued', goapiTaskId: null })
    expect(await spentToday(service)).toBe(0.02)

    expectErrorReply(await post(service, `/captions/${waiting.id}/cancel`, bearer('bob')), 404, 'not_found')
    const canceled = await post(service, `/captions/${waiting.id}/cancel`)
    expect(canceled.statusCode).toBe(200)
    expect(canceled.json()).toMatchObject({ id: waiting.id, status: 'canceled', costUsd: 0 })
    expect(canceled.json().completedAt).not.toBeNull()
    // Idempotent: a second cancel answers the canceled caption again.
    const again = await post(service, `/captions/${waiting.id}/cancel`)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ status: 'canceled' })
    expect(await spentToday(service)).toBe(0.01)

    expectErrorReply(await post(service, `/captions/${sent.id}/cancel`), 409, 'caption_already_submitted')

    // Background work now runs: the slot frees up, and the canceled caption is still never sent.
    const worker = createWorker(service.deps)
    workers.push(worker)
    worker.start()
    await eventually(async () => {
      const caption = await read<CaptionBody>(service, `/captions/${sent.id}`)
      return caption.status === 'completed' ? caption : undefined
    }, 10_000)
    expectErrorReply(await post(service, `/captions/${sent.id}/cancel`), 409, 'caption_finished')
    const later = (
      await post(service, '/captions', bearer('alice'), { imageUrl: uniqueImageUrl('later') })
    ).json()
    await eventually(
      async () =>
        (await read<CaptionBody>(service, `/captions/${later.id}`)).status === 'completed' ? true : undefined,
      10_000,
    )
    expect(tasksOf(service, waiting.imageUrl)).toHaveLength(0)
    expect(await read<CaptionBody>(service, `/captions/${waiting.id}`)).toMatchObject({ status: 'canceled' })
    expect(await spentToday(service)).toBe(0.02)

    const [event] = await eventually(async () => {
      const received = receiver?.received('waiting') ?? []
      return received.length > 0 ? received : undefined
    })
    expect(event?.body).toMatchObject({
      type: 'caption.canceled',
      data: { id: waiting.id, status: 'canceled' },
    })
    const metrics = (await service.app.inject({ url: '/metrics', headers: bearer('alice') })).body
    expect(metrics).toMatch(/caption_captions_finished_total\{status="canceled",code=""\} 1\b/)
    // Two GoAPI tasks of 3 s one after the other: 8 s on a quiet machine, 10 s on a loaded one, and the
    // waits above allow more than the default 20 s; how long it takes is not what this proves.
  }, 45_000)

  it('when a running batch is canceled, then its waiting items are canceled, the sent ones finish, and it completes counting them, its export leaving them out', async () => {
    receiver = await startCallbackReceiver()
    const service = await startTestService({
      env: { ...FAST_WORK, ...authEnv(['alice', 'bob']), GOAPI_MAX_CONCURRENCY: '2' },
      faults: { stepDelayMs: 1_000 },
    })
    services.push(service)
    const items = Array.from({ length: 6 }, () => ({ imageUrl: uniqueImageUrl('batch') }))
    const batch = (
      await post(service, '/batches', bearer('alice'), { items, callbackUrl: receiver.urlFor('batch') })
    ).json() as BatchBody
    const worker = createWorker(service.deps)
    workers.push(worker)
    worker.start()
    await eventually(async () => (service.simulator.tasks.size === 2 ? true : undefined))

    expectErrorReply(await post(service, `/batches/${batch.id}/cancel`, bearer('bob')), 404, 'not_found')
    const canceled = await post(service, `/batches/${batch.id}/cancel`)
    expect(canceled.statusCode).toBe(200)
    expect(canceled.json()).toMatchObject({ id: batch.id, status: 'running', counts: { canceled: 4 } })

    const done = await eventually(async () => {
      const current = await read<BatchBody>(service, `/batches/${batch.id}`)
      return current.status === 'completed' ? current : undefined
    }, 15_000)
    expect(done).toMatchObject({ counts: { completed: 2, canceled: 4, queued: 0 }, costUsd: 0.02 })
    expect(service.simulator.tasks.size).toBe(2)
    const again = await post(service, `/batches/${batch.id}/cancel`)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ status: 'completed', counts: { completed: 2, canceled: 4 } })

    const [event] = await eventually(async () => {
      const received = receiver?.received('batch') ?? []
      return received.length > 0 ? received : undefined
    })
    expect(event?.body).toMatchObject({ type: 'batch.completed', data: { counts: { canceled: 4 } } })
    const exported = await service.app.inject({
      url: `/batches/${batch.id}/export?format=jsonl`,
      headers: bearer('alice'),
    })
    expect(exported.statusCode).toBe(200)
    // Like failed items: listed with their status, and no caption text (so no entry in the zip).
    const lines = exported.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; caption: string })
    expect(lines.filter((line) => line.status === 'canceled')).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ status: 'canceled', caption: '' })),
    )
    expect(lines.filter((line) => line.status === 'completed')).toHaveLength(2)
  })

  it('when cancels race the slot hand-out on two replicas, then no canceled caption ever reaches GoAPI, and each cancel answered 200 is canceled', async () => {
    const simulator = await startSharedSimulator({ stepDelayMs: 20 })
    const env = { ...FAST_WORK, GOAPI_MAX_CONCURRENCY: '3' }
    const first = await startTestService({ env, simulator, workerId: 'first' })
    const second = await startTestService({
      env,
      simulator,
      workerId: 'second',
      databaseUrl: first.databaseUrl,
    })
    services.push(second, first)
    const items = Array.from({ length: 80 }, () => ({ imageUrl: uniqueImageUrl('race') }))
    const batch = (await post(first, '/batches', {}, { items })).json() as BatchBody
    const captions = (
      await read<{ items: CaptionBody[] }>(first, `/batches/${batch.id}/captions?limit=100`, {})
    ).items
    for (const service of [first, second]) {
      const worker = createWorker(service.deps)
      workers.push(worker)
      worker.start()
    }
    await eventually(async () => (simulator.tasks.size >= 3 ? true : undefined))

    // Cancels in small waves from both replicas while both workers hand out slots.
    const answers = new Map<string, number>()
    for (let start = 0; start < captions.length; start += 8) {
      const wave = captions.slice(start, start + 8)
      const replies = await Promise.all(
        wave.map((caption, index) =>
          post(index % 2 === 0 ? first : second, `/captions/${caption.id}/cancel`, {}),
        ),
      )
      for (const [index, caption] of wave.entries()) answers.set(caption.id, replies[index]?.statusCode ?? 0)
    }
    await eventually(async () => {
      const current = await read<BatchBody>(first, `/batches/${batch.id}`, {})
      return current.status === 'completed' ? current : undefined
    }, 30_000)

    const final = (await read<{ items: CaptionBody[] }>(first, `/batches/${batch.id}/captions?limit=100`, {}))
      .items
    const canceled = final.filter((caption) => caption.status === 'canceled')
    for (const caption of final) {
      const answer = answers.get(caption.id)
      expect([200, 409]).toContain(answer)
      expect(caption.status === 'canceled').toBe(answer === 200)
      if (caption.status === 'canceled') expect(tasksOf(first, caption.imageUrl)).toHaveLength(0)
      else expect(caption.status).toBe('completed')
    }
    expect(canceled.length).toBeGreaterThan(0)
    expect(canceled.length).toBeLessThan(final.length)
    expect(simulator.tasks.size).toBe(final.length - canceled.length)
  }, 60_000)
})
