import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type CreateTaskInput,
  createGoapiClient,
  createTaskBody,
  type GoapiClient,
} from '../../src/goapi/client.js'
import { goapiTaskSchema, goapiWebhookSchema, taskErrorMessage } from '../../src/goapi/task.js'
import {
  createGoapiSimulator,
  GO_ZERO_TIME,
  type GoapiSimulator,
  type SimulatedGoapiTask,
  type SimulatorFaults,
  type SimulatorOptions,
} from '../../src/goapi-simulator/simulator.js'

const API_KEY = 'simulator-test-key'
const SECRET = 'per-caption-webhook-secret'
const STEP_MS = 20

/** The task object from GoAPI's documented create response. */
const DOCUMENTED_TASK = {
  task_id: '1e829971-31b6-44e6-83cc-84d20b9e089c',
  model: 'Qubico/joycaption',
  task_type: 'joycaption-beta-one',
  status: 'pending',
  config: {
    service_mode: '',
    webhook_config: { endpoint: 'https://captions.example.com/webhooks/goapi', secret: 'x' },
  },
  input: {
    image: 'https://piapi.ai/workspace/flux/input_example.png',
    prompt_style: 'Descriptive',
    caption_length: 'any',
  },
  output: null,
  meta: {
    created_at: '2025-07-16T06:21:33.896480518Z',
    started_at: '0001-01-01T00:00:00Z',
    ended_at: '0001-01-01T00:00:00Z',
    usage: { type: 'llm', frozen: 0, consume: 100000 },
    is_using_private_pool: false,
  },
  detail: null,
  logs: [],
  error: { code: 0, raw_message: '', message: '', detail: null },
}
/** The same task as GoAPI's documented completed webhook carries it. */
const DOCUMENTED_COMPLETED_TASK = {
  ...DOCUMENTED_TASK,
  status: 'completed',
  output: { text: 'This is a vibrant, digitally-created photograph.' },
  meta: { ...DOCUMENTED_TASK.meta, failover_triggered: false },
  logs: null,
}

interface Delivery {
  secret: string | string[] | undefined
  contentType: string | undefined
  body: { timestamp: number; data: SimulatedGoapiTask }
}

const cleanups: (() => Promise<unknown>)[] = []

afterEach(async () => {
  // Newest first: the simulator stops before the receiver it posts to.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A webhook receiver on loopback; `answer` picks the HTTP status of the n-th call (from 1). */
async function startReceiver(answer: (call: number) => number = () => 200) {
  const deliveries: Delivery[] = []
  let calls = 0
  const app = Fastify()
  app.post('/webhooks/goapi', async (request, reply) => {
    calls += 1
    const status = answer(calls)
    if (status < 300) {
      deliveries.push({
        secret: request.headers['x-webhook-secret'],
        contentType: request.headers['content-type'],
        body: request.body as Delivery['body'],
      })
    }
    return reply.code(status).send({ received: status < 300 })
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  cleanups.push(() => app.close())
  return {
    endpoint: `${url}/webhooks/goapi`,
    deliveries,
    statuses: () => deliveries.map((delivery) => delivery.body.data.status),
    calls: () => calls,
  }
}

async function startSimulator(
  faults: Partial<SimulatorFaults> = {},
  options: Partial<SimulatorOptions> = {},
  clientOptions: { headersTimeoutMs?: number } = {},
): Promise<{ sim: GoapiSimulator; client: GoapiClient; url: string }> {
  const sim = createGoapiSimulator({
    apiKey: API_KEY,
    faults: { stepDelayMs: STEP_MS, ...faults },
    webhookRetryDelaysMs: [10, 20],
    ...options,
  })
  cleanups.push(() => sim.close())
  const url = await sim.listen()
  const client = createGoapiClient({
    baseUrl: url,
    apiKey: API_KEY,
    headersTimeoutMs: 2_000,
    ...clientOptions,
  })
  cleanups.push(() => client.close())
  return { sim, client, url }
}

function captionInput(webhookEndpoint: string): CreateTaskInput {
  return {
    imageUrl: 'https://images.example.com/cat.png',
    promptStyle: 'Descriptive',
    captionLength: 'any',
    webhookEndpoint,
    webhookSecret: SECRET,
  }
}

async function createTask(client: GoapiClient, webhookEndpoint: string): Promise<string> {
  const outcome = await client.createTask(captionInput(webhookEndpoint))
  if (outcome.kind !== 'created') throw new Error(`expected a created task, got ${JSON.stringify(outcome)}`)
  return outcome.task.task_id
}

async function waitForStatus(client: GoapiClient, taskId: string, status: string) {
  await vi.waitFor(
    async () => {
      const outcome = await client.getTask(taskId)
      expect(outcome.kind === 'found' && outcome.task.status).toBe(status)
    },
    { timeout: 2_000, interval: 10 },
  )
}

const waitUntil = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 5 })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every key path of a JSON value, to compare shapes and not values. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix]
  return Object.entries(value)
    .flatMap(([key, inner]) => keyPaths(inner, prefix === '' ? key : `${prefix}.${key}`))
    .sort()
}

describe('creating a task', () => {
  it("when a caption task is created, then the envelope holds a pending task shaped like GoAPI's", async () => {
    const receiver = await startReceiver()
    const { sim } = await startSimulator({ stepDelayMs: 10_000 })

    const response = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': API_KEY },
      payload: createTaskBody(captionInput(receiver.endpoint)),
    })

    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toMatchObject({ code: 200, message: 'success' })
    expect(Object.keys(body).sort()).toEqual(['code', 'data', 'message'])
    expect(goapiTaskSchema.safeParse(body.data).success).toBe(true)
    expect(keyPaths(body.data)).toEqual(keyPaths(DOCUMENTED_TASK))
    expect(body.data).toMatchObject({
      model: 'Qubico/joycaption',
      task_type: 'joycaption-beta-one',
      status: 'pending',
      config: { service_mode: '', webhook_config: { endpoint: receiver.endpoint, secret: SECRET } },
      input: {
        image: 'https://images.example.com/cat.png',
        prompt_style: 'Descriptive',
        caption_length: 'any',
      },
      output: null,
      meta: {
        started_at: GO_ZERO_TIME,
        ended_at: GO_ZERO_TIME,
        usage: { type: 'llm', frozen: 0, consume: 100000 },
        is_using_private_pool: false,
      },
      detail: null,
      logs: [],
      error: { code: 0, raw_message: '', message: '', detail: null },
    })
    expect(body.data.task_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(body.data.meta.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/)
    expect(sim.tasks.get(body.data.task_id)?.createAnswered).toBe(true)
  })

  it('when the clock and randomness are injected, then times and fates follow them', async () => {
    const draws = [0.4, 0.6]
    const { sim } = await startSimulator(
      { failTaskRate: 0.5 },
      { now: () => new Date('2025-07-16T06:21:33.890Z'), random: () => draws.shift() ?? 0 },
    )
    const create = () =>
      sim.app.inject({
        method: 'POST',
        url: '/api/v1/task',
        headers: { 'x-api-key': API_KEY },
        payload: createTaskBody(captionInput('')),
      })

    const first = (await create()).json()
    const second = (await create()).json()

    expect(first.data.meta.created_at).toBe('2025-07-16T06:21:33.89Z')
    expect(sim.tasks.get(first.data.task_id)?.fate).toBe('fail')
    expect(sim.tasks.get(second.data.task_id)?.fate).toBe('complete')
  })

  it('when the api key is wrong or missing, then GoAPI answers 401 and creates nothing', async () => {
    const { sim, url } = await startSimulator()
    const payload = createTaskBody(captionInput(''))

    const missing = await sim.app.inject({ method: 'POST', url: '/api/v1/task', payload })
    const wrong = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': 'not-the-key' },
      payload,
    })
    const stranger = createGoapiClient({ baseUrl: url, apiKey: 'not-the-key' })
    cleanups.push(() => stranger.close())

    for (const response of [missing, wrong]) {
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({ code: 401, message: expect.any(String) })
    }
    expect(await stranger.createTask(captionInput(''))).toMatchObject({ kind: 'rejected', httpStatus: 401 })
    expect(await stranger.getTask('anything')).toMatchObject({ kind: 'rejected', httpStatus: 401 })
    expect(sim.tasks.size).toBe(0)
  })

  const valid = createTaskBody(captionInput('https://captions.example.com/webhooks/goapi'))
  it.each([
    ['the model is wrong', { ...valid, model: 'Qubico/flux1-dev' }, 'model'],
    ['the task type is wrong', { ...valid, task_type: 'txt2img' }, 'task_type'],
    ['the input is missing', { ...valid, input: undefined }, 'input'],
    ['the image is not a URL', { ...valid, input: { ...valid.input, image: 'cat.png' } }, 'input.image'],
    [
      'the image is not http(s)',
      { ...valid, input: { ...valid.input, image: 'ftp://x.example/a.png' } },
      'input.image',
    ],
    [
      'the prompt style is not a string',
      { ...valid, input: { ...valid.input, prompt_style: 3 } },
      'input.prompt_style',
    ],
    [
      'the webhook endpoint is not a URL',
      { ...valid, config: { webhook_config: { endpoint: 'nowhere', secret: 's' } } },
      'config.webhook_config.endpoint',
    ],
  ])('when %s, then GoAPI answers 400 naming the field', async (_case, payload, field) => {
    const { sim } = await startSimulator()

    const response = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': API_KEY },
      payload,
    })

    expect(response.statusCode).toBe(400)
    const body = response.json()
    expect(body.code).toBe(400)
    expect(body.message).toContain(field)
    expect(sim.tasks.size).toBe(0)
  })

  it('when the body is not JSON, then GoAPI answers 400 in its own error shape', async () => {
    const { sim } = await startSimulator()

    const response = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      payload: '{not json',
    })

    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ code: 400, message: expect.any(String) })
  })

  it('when optional inputs are left out, then the documented defaults are echoed', async () => {
    const { sim } = await startSimulator({ stepDelayMs: 10_000 })

    const response = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': API_KEY },
      payload: {
        model: 'Qubico/joycaption',
        task_type: 'joycaption-beta-one',
        input: { image: 'http://x.example/a' },
      },
    })

    expect(response.json().data).toMatchObject({
      input: { image: 'http://x.example/a', prompt_style: 'Descriptive', caption_length: 'any' },
      config: { service_mode: '', webhook_config: { endpoint: '', secret: '' } },
    })
  })

  it('when the real client sends a bad image URL, then it gets rejected with GoAPI 400 message', async () => {
    const { client } = await startSimulator()

    const outcome = await client.createTask({ ...captionInput(''), imageUrl: 'not a url' })

    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 400 })
    expect(outcome.kind === 'rejected' && outcome.message).toContain('input.image')
  })
})

describe('task lifecycle and webhooks', () => {
  it('when a task runs, then pending, processing and completed webhooks arrive in order with the secret', async () => {
    const receiver = await startReceiver()
    const { sim, client } = await startSimulator()

    const taskId = await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.deliveries).toHaveLength(3))

    expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed'])
    for (const delivery of receiver.deliveries) {
      expect(delivery.secret).toBe(SECRET)
      expect(delivery.contentType).toMatch(/^application\/json/)
      expect(goapiWebhookSchema.safeParse(delivery.body).success).toBe(true)
      expect(delivery.body.data.task_id).toBe(taskId)
      expect(Math.abs(delivery.body.timestamp - Date.now() / 1000)).toBeLessThan(5)
    }
    const completed = receiver.deliveries[2]?.body.data
    expect(keyPaths(completed)).toEqual(keyPaths(DOCUMENTED_COMPLETED_TASK))
    expect(completed?.output?.text).toBe(
      '[simulated caption] A Descriptive caption (length: any) of https://images.example.com/cat.png',
    )
    expect(receiver.deliveries[1]?.body.data.meta.started_at).not.toBe(GO_ZERO_TIME)
    expect(receiver.deliveries[1]?.body.data.output).toBeNull()

    const outcome = await client.getTask(taskId)
    expect(outcome.kind).toBe('found')
    if (outcome.kind !== 'found') return
    expect(outcome.task.status).toBe('completed')
    expect(outcome.task.output?.text).toContain('[simulated caption]')
    expect((outcome.task.meta as { ended_at: string }).ended_at).not.toBe(GO_ZERO_TIME)
    expect(sim.tasks.get(taskId)).toMatchObject({ webhookDeliveries: 3, webhookAttempts: 3, getRequests: 1 })
  })

  it('when failTaskRate is 1, then the task ends failed with an error message and no output', async () => {
    const receiver = await startReceiver()
    const { client } = await startSimulator({ failTaskRate: 1 })

    await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing', 'failed']))

    const failed = goapiWebhookSchema.parse(receiver.deliveries[2]?.body).data
    expect(failed.output).toBeNull()
    expect(failed.error?.message).toMatch(/^simulated failure/)
    expect(failed.error?.code).toBe(10000)
    expect(taskErrorMessage(failed)).toBe(failed.error?.message)
  })

  it('when dropWebhookRate is 1, then no webhook arrives but GET shows the completion', async () => {
    const receiver = await startReceiver()
    const { sim, client } = await startSimulator({ dropWebhookRate: 1 })

    const taskId = await createTask(client, receiver.endpoint)
    await waitForStatus(client, taskId, 'completed')
    await sleep(STEP_MS)

    expect(receiver.calls()).toBe(0)
    expect(sim.tasks.get(taskId)).toMatchObject({ webhooksDropped: 3, webhookAttempts: 0 })
  })

  it('when duplicateWebhookRate is 1, then every delivery arrives twice', async () => {
    const receiver = await startReceiver()
    const { client } = await startSimulator({ duplicateWebhookRate: 1 })

    await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.deliveries).toHaveLength(6))

    expect(receiver.statuses()).toEqual([
      'pending',
      'pending',
      'processing',
      'processing',
      'completed',
      'completed',
    ])
    expect(receiver.deliveries[4]?.body).toEqual(receiver.deliveries[5]?.body)
  })

  it('when reorderWebhooks is on, then a stale pending delivery follows the completed one', async () => {
    const receiver = await startReceiver()
    const { sim, client } = await startSimulator({ reorderWebhooks: true })

    const taskId = await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.deliveries).toHaveLength(4))

    expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed', 'pending'])
    expect(receiver.deliveries[3]?.body.data).toMatchObject({ task_id: taskId, output: null })
    expect(sim.tasks.get(taskId)?.task.status).toBe('completed')
  })

  it('when no webhook endpoint is given, then nothing is sent and the task still completes', async () => {
    const { sim, client } = await startSimulator()

    const taskId = await createTask(client, '')
    await waitForStatus(client, taskId, 'completed')

    expect(sim.tasks.get(taskId)).toMatchObject({ webhookAttempts: 0, webhooksDropped: 0 })
  })

  it('when the receiver answers 500 once, then the delivery is retried and arrives', async () => {
    const receiver = await startReceiver((call) => (call === 1 ? 500 : 200))
    const { sim, client } = await startSimulator()

    const taskId = await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed']))

    // The receiver has the delivery before the simulator has its answer.
    await waitUntil(() =>
      expect(sim.tasks.get(taskId)).toMatchObject({ webhookAttempts: 4, webhookDeliveries: 3 }),
    )
  })

  it('when the receiver always fails, then each delivery gives up after three tries', async () => {
    const receiver = await startReceiver(() => 503)
    const { sim, client } = await startSimulator()

    const taskId = await createTask(client, receiver.endpoint)
    await waitUntil(() => expect(receiver.calls()).toBe(9))
    await sleep(50)

    expect(receiver.calls()).toBe(9)
    expect(sim.tasks.get(taskId)).toMatchObject({ webhookAttempts: 9, webhookDeliveries: 0 })
    expect(sim.tasks.get(taskId)?.task.status).toBe('completed')
  })

  it('when neverFinishRate is 1, then the task stays processing until it is finished by hand', async () => {
    const receiver = await startReceiver()
    const { sim, client } = await startSimulator({ neverFinishRate: 1 })

    const taskId = await createTask(client, receiver.endpoint)
    await sleep(STEP_MS * 6)

    expect(sim.tasks.get(taskId)?.task.status).toBe('processing')
    expect(receiver.statuses()).toEqual(['pending', 'processing'])

    expect(sim.finishTask(taskId).status).toBe('completed')
    expect(sim.finishTask(taskId, 'failed').status).toBe('completed')
    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed']))
    await waitForStatus(client, taskId, 'completed')
  })

  it('when a task is unknown, then GET answers 404 task not found', async () => {
    const { sim, client } = await startSimulator()

    const response = await sim.app.inject({
      method: 'GET',
      url: '/api/v1/task/00000000-0000-0000-0000-000000000000',
      headers: { 'x-api-key': API_KEY },
    })

    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ code: 404, message: 'task not found' })
    expect(await client.getTask('00000000-0000-0000-0000-000000000000')).toEqual({ kind: 'not_found' })
  })
})

describe('create faults', () => {
  it('when createFailureRate is 1 with 429, then GoAPI answers 429 with Retry-After and records no task', async () => {
    const { sim, client } = await startSimulator({ createFailureRate: 1, createFailureStatus: 429 })

    const response = await sim.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'x-api-key': API_KEY },
      payload: createTaskBody(captionInput('')),
    })
    const outcome = await client.createTask(captionInput(''))

    expect(response.statusCode).toBe(429)
    expect(response.headers['retry-after']).toBe('1')
    expect(response.json()).toEqual({ code: 429, message: expect.any(String) })
    expect(outcome).toMatchObject({ kind: 'retryable', retryAfterMs: 1000 })
    expect(sim.tasks.size).toBe(0)
    expect(sim.counters.createFaults).toBe(2)
  })

  it.each([500, 503])(
    'when createFailureRate is 1 with %i, then the client may safely retry',
    async (status) => {
      const { sim, client } = await startSimulator({ createFailureRate: 1, createFailureStatus: status })

      expect(await client.createTask(captionInput(''))).toMatchObject({ kind: 'retryable' })
      expect(sim.tasks.size).toBe(0)
    },
  )

  it('when createHangRate is 1, then the client sees ambiguous while the task exists and runs', async () => {
    const receiver = await startReceiver()
    const { sim, client } = await startSimulator({ createHangRate: 1 }, {}, { headersTimeoutMs: 200 })

    const outcome = await client.createTask(captionInput(receiver.endpoint))

    expect(outcome.kind).toBe('ambiguous')
    expect(sim.tasks.size).toBe(1)
    const [record] = [...sim.tasks.values()]
    expect(record?.createAnswered).toBe(false)
    expect(sim.counters.createHangs).toBe(1)
    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed']))

    sim.faults.createHangRate = 0
    expect((await client.createTask(captionInput(''))).kind).toBe('created')
    expect(sim.summary()).toMatchObject({ tasks: 2, unansweredCreates: 1 })
  })

  it('when createLatencyMs is set, then the create answer is delayed by it', async () => {
    const { client } = await startSimulator({ createLatencyMs: 150 })

    const started = performance.now()
    const outcome = await client.createTask(captionInput(''))

    expect(outcome.kind).toBe('created')
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('when the simulator closes under a held create, then the caller hears at once and close resolves', async () => {
    const { sim, client } = await startSimulator({ createHangRate: 1 }, {}, { headersTimeoutMs: 30_000 })

    const pending = client.createTask(captionInput(''))
    await waitUntil(() => expect(sim.tasks.size).toBe(1))
    const started = performance.now()
    await sim.close()

    expect((await pending).kind).toBe('ambiguous')
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe('state kept across restarts', () => {
  async function stateFile() {
    const dir = await mkdtemp(path.join(tmpdir(), 'goapi-sim-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    return path.join(dir, 'state', 'goapi-simulator.json')
  }

  it('when a simulator with a state file closes before its task finishes, then a new one on the same file answers for the task and completes it', async () => {
    const receiver = await startReceiver()
    const file = await stateFile()
    const first = await startSimulator({ stepDelayMs: 60_000 }, { stateFile: file })
    const taskId = await createTask(first.client, receiver.endpoint)
    await waitUntil(() => expect(first.sim.tasks.get(taskId)?.webhookDeliveries).toBe(1))
    await first.sim.close()

    const second = await startSimulator({}, { stateFile: file, resumeAfterMs: STEP_MS })

    const outcome = await second.client.getTask(taskId)
    expect(outcome.kind === 'found' && outcome.task.status).toBe('pending')
    await waitForStatus(second.client, taskId, 'completed')
    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing', 'completed']))
    expect(receiver.deliveries.map((delivery) => delivery.secret)).toEqual([SECRET, SECRET, SECRET])
    expect(second.sim.tasks.get(taskId)).toMatchObject({ fate: 'complete', createAnswered: true })
  })

  it('when close cuts a webhook off, then the next simulator on the file sends it again', async () => {
    const receiver = await startReceiver((call) => (call === 1 ? 503 : 200))
    const file = await stateFile()
    const first = await startSimulator(
      { stepDelayMs: 60_000, neverFinishRate: 1 },
      { stateFile: file, webhookRetryDelaysMs: [60_000] },
    )
    const taskId = await createTask(first.client, receiver.endpoint)
    await waitUntil(() => expect(receiver.calls()).toBe(1))
    await first.sim.close()

    await startSimulator({}, { stateFile: file, resumeAfterMs: STEP_MS })

    await waitUntil(() => expect(receiver.statuses()).toEqual(['pending', 'processing']))
    await sleep(STEP_MS * 3)
    expect(receiver.statuses()).toEqual(['pending', 'processing'])
    expect(receiver.deliveries[0]?.body.data.task_id).toBe(taskId)
  })

  it('when a task that never finishes is carried over, then it stays processing until finished by hand', async () => {
    const file = await stateFile()
    const first = await startSimulator({ neverFinishRate: 1 }, { stateFile: file })
    const taskId = await createTask(first.client, '')
    await waitForStatus(first.client, taskId, 'processing')
    await first.sim.close()

    const second = await startSimulator({}, { stateFile: file })
    await sleep(STEP_MS * 4)

    expect(second.sim.tasks.get(taskId)?.task.status).toBe('processing')
    expect(second.sim.finishTask(taskId).status).toBe('completed')
  })

  it('when a burst of tasks is created, then the state file is written a few times, not once per task', async () => {
    const file = await stateFile()
    const { sim } = await startSimulator({ stepDelayMs: 60_000 }, { stateFile: file })

    const created = await Promise.all(
      Array.from({ length: 200 }, () =>
        sim.app.inject({
          method: 'POST',
          url: '/api/v1/task',
          headers: { 'x-api-key': API_KEY },
          payload: createTaskBody(captionInput('')),
        }),
      ),
    )
    await waitUntil(() => expect(sim.counters.stateWrites).toBeGreaterThan(0))
    await sim.close()

    expect(created.every((response) => response.statusCode === 200)).toBe(true)
    expect(sim.counters.stateWrites).toBeLessThanOrEqual(5)
    const saved = JSON.parse(await readFile(file, 'utf8')) as { tasks: { task: { task_id: string } }[] }
    expect(saved.tasks.map((entry) => entry.task.task_id).sort()).toEqual([...sim.tasks.keys()].sort())
    expect(await readdir(path.dirname(file))).toEqual([path.basename(file)])
  })

  it('when a task is forgotten, then get-task answers 404 and the next simulator on the file does not know it either', async () => {
    const file = await stateFile()
    const first = await startSimulator({ stepDelayMs: 60_000 }, { stateFile: file })
    const forgotten = await createTask(first.client, '')
    const kept = await createTask(first.client, '')

    const response = await first.sim.app.inject({
      method: 'DELETE',
      url: `/_sim/tasks/${forgotten}`,
      headers: { 'x-api-key': API_KEY },
    })
    const again = await first.sim.app.inject({
      method: 'DELETE',
      url: `/_sim/tasks/${forgotten}`,
      headers: { 'x-api-key': API_KEY },
    })

    expect(response.statusCode).toBe(204)
    expect(again.statusCode).toBe(404)
    expect(await first.client.getTask(forgotten)).toEqual({ kind: 'not_found' })
    await first.sim.close()
    const second = await startSimulator({}, { stateFile: file })
    expect(await second.client.getTask(forgotten)).toEqual({ kind: 'not_found' })
    expect((await second.client.getTask(kept)).kind).toBe('found')
  })

  it('when finished tasks in the state file ended more than a day before a start, then that start forgets them', async () => {
    const file = await stateFile()
    let now = new Date('2026-03-01T12:00:00Z')
    const first = await startSimulator({ neverFinishRate: 1 }, { stateFile: file, now: () => now })
    const old = await createTask(first.client, '')
    const running = await createTask(first.client, '')
    first.sim.finishTask(old)
    await first.sim.close()

    now = new Date('2026-03-02T12:00:01Z')
    const second = await startSimulator({}, { stateFile: file, now: () => now })

    expect(second.sim.tasks.has(old)).toBe(false)
    expect(second.sim.tasks.has(running)).toBe(true)
  })

  it('when the state file cannot be read, then the simulator refuses to start and names the file', async () => {
    const file = await stateFile()
    const { sim } = await startSimulator({}, { stateFile: file })
    await sim.close()
    await writeFile(file, '{"version":1,"tasks":[{"task":')

    expect(() => createGoapiSimulator({ apiKey: API_KEY, stateFile: file })).toThrow(file)
  })

  it('when no state file is given, then nothing is written', async () => {
    const { sim, client } = await startSimulator()
    await createTask(client, '')
    await sim.close()

    expect(sim.counters.stateWrites).toBe(0)
  })
})

describe('control routes', () => {
  it('when faults are patched over HTTP, then the next requests use them', async () => {
    const { sim } = await startSimulator()
    const headers = { 'x-api-key': API_KEY }

    const patched = await sim.app.inject({
      method: 'PATCH',
      url: '/_sim/faults',
      headers,
      payload: { dropWebhookRate: 0.25, reorderWebhooks: true },
    })
    const invalid = await sim.app.inject({
      method: 'PATCH',
      url: '/_sim/faults',
      headers,
      payload: { dropWebhookRate: 2 },
    })
    const anonymous = await sim.app.inject({ method: 'GET', url: '/_sim/tasks' })
    const summary = await sim.app.inject({ method: 'GET', url: '/_sim/tasks', headers })

    expect(patched.statusCode).toBe(200)
    expect(sim.faults).toMatchObject({ dropWebhookRate: 0.25, reorderWebhooks: true, stepDelayMs: STEP_MS })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().message).toContain('dropWebhookRate')
    expect(sim.faults.dropWebhookRate).toBe(0.25)
    expect(anonymous.statusCode).toBe(401)
    expect(summary.json()).toMatchObject({ tasks: 0, byStatus: { pending: 0, completed: 0 } })
  })
})

describe('standalone command', () => {
  const cli = fileURLToPath(new URL('../../src/goapi-simulator/cli.ts', import.meta.url))

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', cli], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    return { child, exited, stdout: () => stdout, stderr: () => stderr }
  }

  it('when a fault variable is invalid, then the command names it and exits 1', async () => {
    const command = run({ GOAPI_SIM_DROP_WEBHOOK_RATE: '2', GOAPI_SIM_REORDER_WEBHOOKS: 'maybe' })

    expect(await command.exited).toBe(1)
    expect(command.stderr()).toContain('GOAPI_SIM_DROP_WEBHOOK_RATE')
    expect(command.stderr()).toContain('GOAPI_SIM_REORDER_WEBHOOKS')
  })

  it('when a GOAPI_SIM_ variable is misspelled, then the command names it, lists the known names and exits 1', async () => {
    const command = run({ GOAPI_SIM_PORT: '0', GOAPI_SIM_DROP_WEBHOOKS_RATE: '1' })
    cleanups.push(async () => {
      if (command.child.exitCode === null) command.child.kill('SIGKILL')
    })

    expect(await command.exited).toBe(1)
    expect(command.stderr()).toContain('GOAPI_SIM_DROP_WEBHOOKS_RATE')
    expect(command.stderr()).toContain('did you mean GOAPI_SIM_DROP_WEBHOOK_RATE?')
    for (const known of [
      'GOAPI_SIM_PORT',
      'GOAPI_SIM_API_KEY',
      'GOAPI_SIM_STATE_FILE',
      'GOAPI_SIM_FAIL_TASK_RATE',
    ])
      expect(command.stderr()).toContain(known)
    expect(command.stdout()).not.toContain('listening')
  })

  it('when started, then it prints its URL, serves the API with faults from env, and stops on SIGTERM', async () => {
    const command = run({ GOAPI_SIM_PORT: '0', GOAPI_SIM_API_KEY: API_KEY, GOAPI_SIM_FAIL_TASK_RATE: '1' })
    cleanups.push(async () => {
      if (command.child.exitCode === null) command.child.kill('SIGKILL')
    })

    await vi.waitFor(() => expect(command.stdout()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/), {
      timeout: 8_000,
      interval: 20,
    })
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(command.stdout())?.[1] ?? ''
    const response = await fetch(`${url}/_sim/faults`, { headers: { 'x-api-key': API_KEY } })

    expect(await response.json()).toMatchObject({ failTaskRate: 1, stepDelayMs: 300 })
    expect(command.stdout()).not.toContain(API_KEY)
    command.child.kill('SIGTERM')
    expect(await command.exited).toBe(0)
  }, 10_000)

  it('when GOAPI_SIM_STATE_FILE is set, then the tasks it made are in that file once it stops', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'goapi-sim-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'tasks.json')
    const command = run({ GOAPI_SIM_PORT: '0', GOAPI_SIM_API_KEY: API_KEY, GOAPI_SIM_STATE_FILE: file })
    cleanups.push(async () => {
      if (command.child.exitCode === null) command.child.kill('SIGKILL')
    })
    await vi.waitFor(() => expect(command.stdout()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/), {
      timeout: 15_000,
      interval: 20,
    })
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(command.stdout())?.[1] ?? ''
    const client = createGoapiClient({ baseUrl: url, apiKey: API_KEY })
    cleanups.push(() => client.close())

    const taskId = await createTask(client, '')
    command.child.kill('SIGTERM')

    expect(await command.exited).toBe(0)
    const saved = JSON.parse(await readFile(file, 'utf8')) as { tasks: { task: { task_id: string } }[] }
    expect(saved.tasks.map((entry) => entry.task.task_id)).toEqual([taskId])
  })
})
