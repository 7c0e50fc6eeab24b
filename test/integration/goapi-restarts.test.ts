import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createGoapiSimulator,
  type GoapiSimulator,
  type SimulatorFaults,
} from '../../src/goapi-simulator/simulator.js'
import { createWorker } from '../../src/work/worker.js'
import {
  eventually,
  manualClock,
  startTestService,
  TEST_GOAPI_KEY,
  type TestService,
} from '../helpers/service.js'

const MINUTE = 60_000

describe('GoAPI restarts and lost tasks', () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /**
   * A GoAPI simulator on a fixed port that can be replaced by another one on the same port, as the
   * zero-setup mode replaces its simulator when it restarts. Webhooks are dropped: polling does the work.
   */
  async function replaceableGoapi() {
    const dir = await mkdtemp(path.join(tmpdir(), 'goapi-restarts-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const stateFile = path.join(dir, 'goapi-simulator.json')
    let port = 0
    let current: GoapiSimulator | undefined
    return {
      stateFile,
      get simulator() {
        return current as GoapiSimulator
      },
      /** Closes the running simulator and starts `next` (remembering tasks unless `forgetful`). */
      async restart(faults: Partial<SimulatorFaults> = {}, { forgetful = false } = {}) {
        await current?.close()
        const simulator = createGoapiSimulator({
          apiKey: TEST_GOAPI_KEY,
          faults: { stepDelayMs: 20, dropWebhookRate: 1, ...faults },
          ...(forgetful ? {} : { stateFile }),
          resumeAfterMs: 0,
        })
        cleanups.push(() => simulator.close())
        const url = await simulator.listen({ port })
        port = Number(new URL(url).port)
        current = simulator
        return simulator
      },
    }
  }

  async function start() {
    const goapi = await replaceableGoapi()
    await goapi.restart({ stepDelayMs: 60 * MINUTE })
    const clock = manualClock()
    const service = await startTestService({ simulator: goapi.simulator, clock })
    cleanups.push(() => service.close())
    const worker = createWorker(service.deps)
    const response = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: 'https://images.example.com/cat.png' },
    })
    expect(response.statusCode).toBe(202)
    const caption = response.json() as { id: string; status: string; goapiTaskId: string }
    expect(caption.status).toBe('pending')
    /** Moves the clock to the caption's next poll and runs one round of background work. */
    async function pollNow() {
      const due = (await row(service, caption.id)).nextAttemptAt
      if (due && due > clock.now()) clock.advance(due.getTime() - clock.now().getTime())
      await worker.runOnce()
      return row(service, caption.id)
    }
    return { goapi, service, caption, pollNow }
  }

  const row = (service: TestService, id: string) => service.db.caption.findUniqueOrThrow({ where: { id } })

  it('when the simulator restarts with a caption in flight, then background work completes the caption from the restarted one', async () => {
    const { goapi, service, caption, pollNow } = await start()

    const restarted = await goapi.restart()
    await eventually(async () =>
      restarted.tasks.get(caption.goapiTaskId)?.task.status === 'completed' ? true : undefined,
    )
    const polled = await pollNow()

    expect(polled).toMatchObject({ status: 'completed', errorCode: null, goapiTaskId: caption.goapiTaskId })
    expect(polled.caption).toContain('[simulated caption]')
    const read = await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })
    expect(read.json()).toMatchObject({ status: 'completed', error: null })
    expect(restarted.counters.createRequests).toBe(0)
  })

  it('when GoAPI answers not_found for a task between answers that know it, then each not_found is tolerated and the caption completes', async () => {
    const { goapi, caption, pollNow } = await start()

    await goapi.restart({}, { forgetful: true })
    expect((await pollNow()).status).toBe('pending')
    await goapi.restart({ stepDelayMs: 60 * MINUTE })
    expect((await pollNow()).status).toBe('pending')
    await goapi.restart({}, { forgetful: true })
    expect((await pollNow()).status).toBe('pending')
    const restarted = await goapi.restart()
    await eventually(async () =>
      restarted.tasks.get(caption.goapiTaskId)?.task.status === 'completed' ? true : undefined,
    )

    expect(await pollNow()).toMatchObject({ status: 'completed', errorCode: null })
  })

  it('when GoAPI answers not_found for a task twice in a row, then the caption fails at once with goapi_task_not_found and is not sent again', async () => {
    const { goapi, service, caption, pollNow } = await start()
    expect(goapi.simulator.forgetTask(caption.goapiTaskId)).toBe(true)

    const tolerated = await pollNow()
    expect(tolerated).toMatchObject({ status: 'pending', errorCode: null })
    const failed = await pollNow()

    expect(failed).toMatchObject({ status: 'failed', errorCode: 'goapi_task_not_found', resubmissions: 0 })
    expect(failed.completedAt?.getTime()).toBeLessThan((failed.deadlineAt as Date).getTime())
    const read = await service.app.inject({ method: 'GET', url: `/captions/${caption.id}` })
    expect(read.json().error).toEqual({
      code: 'goapi_task_not_found',
      message: expect.stringContaining(`GoAPI no longer knows task ${caption.goapiTaskId}`),
    })
    expect(goapi.simulator.counters).toMatchObject({ createRequests: 1, getRequests: 2 })
    await pollNow()
    expect(goapi.simulator.counters).toMatchObject({ createRequests: 1, getRequests: 2 })
  })
})
