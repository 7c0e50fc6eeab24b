import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CreateTaskInput, CreateTaskOutcome, GoapiClient } from '../../src/goapi/client.js'
import { createGoapiClient } from '../../src/goapi/client.js'
import type { GoapiTask } from '../../src/goapi/task.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import {
  eventually,
  startSharedSimulator,
  startTestService,
  TEST_GOAPI_KEY,
  type TestService,
} from '../helpers/service.js'
import { tasksFor } from '../helpers/simulator.js'

/**
 * A GoAPI whose create calls answer only when the test says so, so that the task's webhooks can be
 * delivered before, between and after the create's answer.
 */
function heldGoapi() {
  const calls: { input: CreateTaskInput; answer: (outcome: CreateTaskOutcome) => void }[] = []
  const client: GoapiClient = {
    createTask: (input) => new Promise((answer) => calls.push({ input, answer })),
    getTask: async () => ({ kind: 'retryable', reason: 'not asked in these tests' }),
    close: async () => {},
  }
  return { client, calls }
}

type Step = 'processing' | 'answer' | 'finish'

function orders(steps: readonly Step[]): Step[][] {
  if (steps.length <= 1) return [[...steps]]
  return steps.flatMap((step, index) =>
    orders([...steps.slice(0, index), ...steps.slice(index + 1)]).map((rest) => [step, ...rest]),
  )
}

const CASES = orders(['processing', 'answer', 'finish']).flatMap((order) =>
  (['created', 'ambiguous'] as const).flatMap((answer) =>
    (['completed', 'failed'] as const).map((finish) => ({
      steps: order.join(', then '),
      order,
      answer,
      finish,
    })),
  ),
)

describe('a task charged once, whatever order its webhooks and its create answer come in', () => {
  const goapi = heldGoapi()
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({
      goapi: goapi.client,
      env: { ...authEnv(['alice']), CALLER_BUDGETS: 'alice:5' },
    })
  })
  afterAll(async () => {
    await service.close()
  })

  const spentCents = async () =>
    (await service.db.callerSpend.findMany({ where: { caller: 'alice' } })).reduce(
      (sum, row) => sum + row.cents,
      0,
    )
  const usage = async () => (await service.app.inject({ url: '/usage', headers: bearer('alice') })).json()

  it.each(CASES)(
    'when the steps come as $steps with a $answer create answer and a $finish end, then the caption counts one task, and its spend and GET /usage say one cent',
    async ({ order, answer, finish }) => {
      const before = { spent: await spentCents(), usage: await usage() }
      const calls = goapi.calls.length
      const posted = service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: { imageUrl: uniqueImageUrl('interleaving') },
        headers: bearer('alice'),
      })
      const call = await eventually(async () => goapi.calls[calls])
      const captionId = call.input.webhookSecret.split('.')[0] as string
      const taskId = `task-${captionId}`
      const deliver = async (status: string) => {
        const delivery = goapiDelivery({
          captionId,
          taskId,
          status,
          ...(status === 'failed' ? { errorMessage: 'the model gave up' } : {}),
        })
        expect((await service.app.inject(delivery)).statusCode).toBe(200)
      }
      for (const step of order) {
        if (step === 'processing') await deliver('processing')
        else if (step === 'finish') await deliver(finish)
        else {
          call.answer(
            answer === 'created'
              ? {
                  kind: 'created',
                  task: goapiDelivery({ captionId, taskId, status: 'pending' }).payload.data as GoapiTask,
                }
              : { kind: 'ambiguous', reason: 'headers timeout' },
          )
          expect((await posted).statusCode).toBe(202)
        }
      }

      const caption = await service.db.caption.findUniqueOrThrow({ where: { id: captionId } })
      expect(caption).toMatchObject({ status: finish, goapiTasks: 1, goapiTaskId: taskId, leaseOwner: null })
      expect(await spentCents()).toBe(before.spent + 1)
      const after = await usage()
      expect(after.goapiTasks).toBe(before.usage.goapiTasks + 1)
      expect(after.costUsd).toBeCloseTo(before.usage.costUsd + 0.01, 10)
      expect(after.budget.spentTodayUsd).toBeCloseTo(before.usage.budget.spentTodayUsd + 0.01, 10)
      // What the day holds is exactly what its captions cost: nothing held is left over.
      expect(Math.round(after.budget.spentTodayUsd * 100)).toBe(after.goapiTasks)
    },
  )
})

describe('a create that times out while its task runs to the end', () => {
  let service: TestService
  let client: GoapiClient
  beforeAll(async () => {
    // Every create is made, run and billed by GoAPI, but its answer never comes back.
    const simulator = await startSharedSimulator({ createHangRate: 1 })
    const address = simulator.app.server.address()
    if (!address || typeof address !== 'object') throw new Error('the simulator is not listening')
    client = createGoapiClient({
      baseUrl: `http://127.0.0.1:${address.port}`,
      apiKey: TEST_GOAPI_KEY,
      headersTimeoutMs: 500,
    })
    service = await startTestService({
      simulator,
      goapi: client,
      env: { ...authEnv(['bob']), CALLER_BUDGETS: 'bob:0.05' },
    })
  })
  afterAll(async () => {
    await service.close()
    await client.close()
    await service.simulator.close()
  })

  it('when each task finishes before its create times out, then a $0.05 budget pays five tasks and refuses the sixth', async () => {
    const post = () =>
      service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: { imageUrl: uniqueImageUrl('hang') },
        headers: bearer('bob'),
      })
    const ids: string[] = []
    for (let index = 0; index < 5; index++) {
      const reply = await post()
      expect(reply.statusCode).toBe(202)
      const { id } = reply.json()
      ids.push(id)
      // The final webhook came while the create was still waiting for its answer.
      await eventually(async () => {
        const caption = await service.db.caption.findUniqueOrThrow({ where: { id } })
        return caption.status === 'completed' && caption.leaseOwner === null ? caption : undefined
      })
    }
    expectErrorReply(await post(), 402, 'budget_exceeded')

    for (const id of ids) expect(tasksFor(service.simulator, id)).toHaveLength(1)
    const captions = await service.db.caption.findMany({ where: { caller: 'bob' } })
    expect(captions.map((caption) => caption.goapiTasks)).toEqual([1, 1, 1, 1, 1])
    const usage = (await service.app.inject({ url: '/usage', headers: bearer('bob') })).json()
    expect(usage).toMatchObject({
      captions: 5,
      goapiTasks: 5,
      costUsd: 0.05,
      budget: { dailyUsd: 0.05, spentTodayUsd: 0.05, remainingUsd: 0 },
    })
  })
})
