import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { manualClock, startTestService, type TestService } from '../helpers/service.js'

/** What the worker says about itself as a replica, not about one caption. */
const REPLICA_LINES = new Set([
  'leases given back for the other replicas',
  'cutting short callbacks still in flight',
  'database unreachable; background work waits for it',
  'database reachable again; background work resumes',
  'background work round failed',
])

describe('the background work log', () => {
  let service: TestService
  let receiver: CallbackReceiver
  const clock = manualClock()

  beforeAll(async () => {
    receiver = await startCallbackReceiver()
    service = await startTestService({ clock, faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.simulator.close()
    await service?.close()
    await receiver?.close()
  })

  async function post(body: Record<string, unknown>) {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: `https://images.example.com/logs/${randomUUID()}.png`, ...body },
    })
    expect(reply.statusCode).toBe(202)
    return (reply.json() as { id: string }).id
  }

  /** Moves the clock to the next thing due and runs a round, until nothing is left to do. */
  async function runUntilQuiet(worker: ReturnType<typeof createWorker>, afterRound: () => void) {
    for (let round = 0; round < 60; round++) {
      const open = await service.db.caption.findMany({
        where: {
          OR: [{ status: { in: ['queued', 'pending', 'processing'] } }, { callbackState: 'pending' }],
        },
        select: { status: true, nextAttemptAt: true, callbackNextAt: true, callbackState: true },
      })
      if (open.length === 0) return
      const due = open.map(
        (row) =>
          (['queued', 'pending', 'processing'].includes(row.status)
            ? row.nextAttemptAt
            : row.callbackNextAt
          )?.getTime() ?? clock.now().getTime(),
      )
      clock.advance(Math.max(0, Math.min(...due) - clock.now().getTime()))
      await worker.runOnce()
      afterRound()
    }
  }

  it('when background work submits, polls, times out and calls back, then every line it logs about a caption names the caption', async () => {
    const callback = randomUUID()
    receiver.answer(callback, 500)
    service.simulator.faults.createFailureRate = 1
    await post({ callbackUrl: receiver.urlFor(callback) })
    service.simulator.faults.createFailureRate = 0
    service.simulator.faults.neverFinishRate = 1
    await post({})
    service.simulator.faults.neverFinishRate = 0
    service.simulator.faults.createFailureRate = 1

    const worker = createWorker(service.deps)
    await runUntilQuiet(worker, () => {
      // One refusal each from GoAPI and from the caller, then they both take what comes.
      service.simulator.faults.createFailureRate = 0
      if (receiver.received(callback).length > 0) receiver.answer(callback, 200)
    })
    await worker.stop(1_000)

    const lines = service.logs.filter((line) => line.component === 'worker')
    const said = new Set(lines.map((line) => String(line.msg)))
    for (const expected of [
      'GoAPI did not take the task; retrying later',
      'GoAPI task created',
      'caption moved forward',
      'caption deadline passed without a final answer from GoAPI',
      'callback not delivered',
      'callback delivered',
    ]) {
      expect([...said]).toContain(expected)
    }
    const unnamed = lines.filter((line) => !REPLICA_LINES.has(String(line.msg)) && !line.captionId)
    expect(unnamed).toEqual([])
  })
})
