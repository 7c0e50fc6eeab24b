import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { authEnv, getAs, postAs, uniqueImageUrl } from '../helpers/callers.js'
import { eventually, manualClock, startTestService, type TestService } from '../helpers/service.js'

type Line = Record<string, unknown>

describe("a caption's story in the log", () => {
  let service: TestService
  let receiver: CallbackReceiver
  const clock = manualClock()

  beforeAll(async () => {
    receiver = await startCallbackReceiver()
    service = await startTestService({ clock, env: authEnv(['alice']) })
  })
  afterAll(async () => {
    await service?.close()
    await receiver?.close()
  })

  /** The lines `jq 'select(.captionId=="<id>")'` would print, and every other line that names the id. */
  function story(id: string): { selected: Line[]; naming: Line[] } {
    const lines = service.logs
    return {
      selected: lines.filter((line) => line.captionId === id),
      // Fastify's "incoming request" is written before any route code runs; its reqId links it.
      naming: lines.filter((line) => JSON.stringify(line).includes(id) && line.msg !== 'incoming request'),
    }
  }

  function expectToldWholly(id: string, goapiTaskId: string) {
    const { selected, naming } = story(id)
    expect(naming.filter((line) => line.captionId !== id)).toEqual([])
    expect(selected.filter((line) => line.caller !== 'alice')).toEqual([])
    // GoAPI's task id is on every line from the one that learnt it on.
    const learnt = selected.findIndex((line) => line.goapiTaskId !== undefined)
    expect(learnt).toBeGreaterThanOrEqual(0)
    expect(selected.slice(learnt).filter((line) => line.goapiTaskId !== goapiTaskId)).toEqual([])
    // Each field once per line: a logger that already carries one does not bind it again.
    const raw = service
      .rawLogs()
      .split('\n')
      .filter((line) => line.includes(id))
    for (const field of ['captionId', 'goapiTaskId', 'caller']) {
      expect(raw.filter((line) => line.split(`"${field}":`).length > 2)).toEqual([])
    }
    return selected.map((line) => String(line.msg))
  }

  it('when a caption is created, finished by webhook, called back and read, then every line about it names it, its task and its caller', async () => {
    const created = await postAs(service, 'alice', {
      imageUrl: uniqueImageUrl('story'),
      callbackUrl: receiver.urlFor('story'),
    })
    expect(created.statusCode).toBe(202)
    const { id } = created.json() as { id: string }
    const worker = createWorker(service.deps)
    const finished = await eventually(async () => {
      await worker.runOnce()
      const caption = (await getAs(service, 'alice', `/captions/${id}`)).json()
      return receiver.received('story').length > 0 ? caption : undefined
    })
    await worker.stop(1_000)

    const said = expectToldWholly(id, finished.goapiTaskId)
    for (const expected of [
      'GoAPI task created',
      'caption moved forward',
      'webhook received',
      'callback delivered',
      'request completed',
    ]) {
      expect(said).toContain(expected)
    }
  })

  it('when background work polls a caption whose webhooks never come, then its lines name it, its task and its caller', async () => {
    service.simulator.faults.dropWebhookRate = 1
    const created = await postAs(service, 'alice', { imageUrl: uniqueImageUrl('story-poll') })
    expect(created.statusCode).toBe(202)
    const { id, goapiTaskId } = created.json() as { id: string; goapiTaskId: string }
    const worker = createWorker(service.deps)
    clock.advance(service.config.work.pollAfterMs + 1_000)
    await eventually(async () => {
      await worker.runOnce()
      // A poll that found the task not yet moved asks again once its wait has passed on the test's clock.
      clock.advance(60_000)
      return story(id).selected.some((line) => line.msg === 'caption moved forward' && line.component)
        ? true
        : undefined
    }, 15_000)
    await worker.stop(1_000)
    service.simulator.faults.dropWebhookRate = 0

    expect(expectToldWholly(id, goapiTaskId)).toContain('caption moved forward')
  })
})
