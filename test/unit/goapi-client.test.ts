import { errors, MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CreateTaskInput, createGoapiClient, type GoapiClient } from '../../src/goapi/client.js'

const ORIGIN = 'https://api.goapi.test'
const API_KEY = 'goapi-key-never-shown-0123456789'

const INPUT: CreateTaskInput = {
  imageUrl: 'https://images.example.com/cat.png',
  promptStyle: 'Descriptive',
  captionLength: 'any',
  webhookEndpoint: 'https://captions.example.com/webhooks/goapi',
  webhookSecret: 'per-caption-secret',
}

function goapiTask(overrides: Record<string, unknown> = {}) {
  return {
    task_id: '1e829971-31b6-44e6-83cc-84d20b9e089c',
    model: 'Qubico/joycaption',
    task_type: 'joycaption-beta-one',
    status: 'pending',
    config: {
      service_mode: '',
      webhook_config: { endpoint: INPUT.webhookEndpoint, secret: INPUT.webhookSecret },
    },
    input: { image: INPUT.imageUrl, prompt_style: 'Descriptive', caption_length: 'any' },
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
    ...overrides,
  }
}

const success = (task: object) => ({ code: 200, data: task, message: 'success' })
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }

function errorWithCode(code: string, message = code): Error {
  return Object.assign(new Error(message), { code })
}

let mockAgent: MockAgent
let client: GoapiClient

beforeEach(() => {
  mockAgent = new MockAgent()
  mockAgent.disableNetConnect()
  client = createGoapiClient({ baseUrl: `${ORIGIN}/`, apiKey: API_KEY, dispatcher: mockAgent })
})

afterEach(async () => {
  await client.close()
  mockAgent.assertNoPendingInterceptors()
  await mockAgent.close()
})

const goapi = () => mockAgent.get(ORIGIN)
const interceptCreate = () => goapi().intercept({ path: '/api/v1/task', method: 'POST' })

describe('createTask', () => {
  it('when a caption is submitted, then the documented body is sent with the x-api-key header', async () => {
    let sent: { headers: Record<string, string>; body: unknown } | undefined
    interceptCreate().reply((options) => {
      sent = { headers: options.headers as Record<string, string>, body: JSON.parse(String(options.body)) }
      return { statusCode: 200, data: success(goapiTask()), responseOptions: JSON_HEADERS }
    })

    await client.createTask(INPUT)

    expect(sent?.headers['x-api-key']).toBe(API_KEY)
    expect(sent?.headers['content-type']).toBe('application/json')
    expect(sent?.body).toEqual({
      model: 'Qubico/joycaption',
      task_type: 'joycaption-beta-one',
      input: {
        workflow_type: 'joycaption-beta-one',
        prompt_style: 'Descriptive',
        caption_length: 'any',
        image: 'https://images.example.com/cat.png',
      },
      config: {
        webhook_config: {
          endpoint: 'https://captions.example.com/webhooks/goapi',
          secret: 'per-caption-secret',
        },
      },
    })
  })

  it('when GoAPI accepts the task, then the outcome is created with the parsed task', async () => {
    interceptCreate().reply(200, success(goapiTask({ new_field: 1 })), JSON_HEADERS)

    const outcome = await client.createTask(INPUT)

    expect(outcome.kind).toBe('created')
    if (outcome.kind !== 'created') return
    expect(outcome.task.task_id).toBe('1e829971-31b6-44e6-83cc-84d20b9e089c')
    expect(outcome.task.status).toBe('pending')
    expect(outcome.task.output).toBeNull()
  })

  it('when GoAPI answers 429 with Retry-After, then the outcome is retryable with the delay', async () => {
    interceptCreate().reply(
      429,
      { code: 429, message: 'concurrency limit reached' },
      { headers: { 'content-type': 'application/json', 'retry-after': '7' } },
    )

    const outcome = await client.createTask(INPUT)

    expect(outcome).toMatchObject({ kind: 'retryable', retryAfterMs: 7000 })
    expect(outcome.kind === 'retryable' && outcome.reason).toContain('concurrency limit reached')
  })

  it('when GoAPI answers 500 with its own JSON error, then the outcome is retryable', async () => {
    interceptCreate().reply(500, { code: 500, message: 'upstream model error' }, JSON_HEADERS)

    const outcome = await client.createTask(INPUT)

    expect(outcome.kind).toBe('retryable')
    expect(outcome).not.toHaveProperty('retryAfterMs')
  })

  it('when a proxy answers 502 with an HTML page, then the outcome is ambiguous', async () => {
    interceptCreate().reply(502, '<html><body>Bad gateway</body></html>', {
      headers: { 'content-type': 'text/html' },
    })

    expect(await client.createTask(INPUT)).toMatchObject({ kind: 'ambiguous' })
  })

  it('when a proxy answers 503 with an HTML page, then the outcome is retryable', async () => {
    interceptCreate().reply(503, '<html>Service Unavailable</html>', {
      headers: { 'content-type': 'text/html' },
    })

    expect(await client.createTask(INPUT)).toMatchObject({ kind: 'retryable' })
  })

  it.each([
    [400, 'image is not a valid URL'],
    [401, 'invalid api key'],
    [402, 'insufficient credits'],
    [403, 'model not available on your plan'],
  ])('when GoAPI answers %i, then the outcome is rejected with its message', async (status, message) => {
    interceptCreate().reply(status, { code: status, message }, JSON_HEADERS)

    expect(await client.createTask(INPUT)).toEqual({ kind: 'rejected', httpStatus: status, message })
  })

  it('when GoAPI answers HTTP 200 with envelope code 400, then the outcome is rejected', async () => {
    interceptCreate().reply(200, { code: 400, data: null, message: 'invalid prompt_style' }, JSON_HEADERS)

    expect(await client.createTask(INPUT)).toEqual({
      kind: 'rejected',
      httpStatus: 400,
      message: 'invalid prompt_style',
    })
  })

  it('when GoAPI answers 200 without a readable task, then the outcome is ambiguous', async () => {
    interceptCreate().reply(200, '<html>ok</html>', { headers: { 'content-type': 'text/html' } })

    expect(await client.createTask(INPUT)).toMatchObject({ kind: 'ambiguous' })
  })

  it('when the connection is refused, then the outcome is retryable', async () => {
    interceptCreate().replyWithError(errorWithCode('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'))

    expect(await client.createTask(INPUT)).toEqual({
      kind: 'retryable',
      reason: 'GoAPI unreachable (ECONNREFUSED)',
    })
  })

  it.each([
    ['a reset connection', () => errorWithCode('ECONNRESET', 'read ECONNRESET')],
    ['a headers timeout', () => new errors.HeadersTimeoutError()],
    ['a closed socket', () => new errors.SocketError('other side closed')],
  ])('when %s follows the request, then the outcome is ambiguous', async (_name, makeError) => {
    interceptCreate().replyWithError(makeError())

    expect(await client.createTask(INPUT)).toMatchObject({ kind: 'ambiguous' })
  })
})

describe('getTask', () => {
  const taskId = '1e829971-31b6-44e6-83cc-84d20b9e089c'
  const interceptGet = () => goapi().intercept({ path: `/api/v1/task/${taskId}`, method: 'GET' })

  it('when the task exists, then it is found with its output', async () => {
    let apiKey: string | undefined
    interceptGet().reply((options) => {
      apiKey = (options.headers as Record<string, string>)['x-api-key']
      const task = goapiTask({ status: 'completed', output: { text: 'A cat on a sofa.' } })
      return { statusCode: 200, data: success(task), responseOptions: JSON_HEADERS }
    })

    const outcome = await client.getTask(taskId)

    expect(apiKey).toBe(API_KEY)
    expect(outcome.kind).toBe('found')
    if (outcome.kind !== 'found') return
    expect(outcome.task.status).toBe('completed')
    expect(outcome.task.output?.text).toBe('A cat on a sofa.')
  })

  it('when GoAPI answers 404, then the task is not found', async () => {
    interceptGet().reply(404, { code: 404, message: 'task not found' }, JSON_HEADERS)

    expect(await client.getTask(taskId)).toEqual({ kind: 'not_found' })
  })

  it.each([500, 502, 503])('when GoAPI answers %i, then the outcome is retryable', async (status) => {
    interceptGet().reply(status, { code: status, message: 'temporarily unavailable' }, JSON_HEADERS)

    expect(await client.getTask(taskId)).toMatchObject({ kind: 'retryable' })
  })

  it('when the request fails on the network, then the outcome is retryable', async () => {
    interceptGet().replyWithError(errorWithCode('ECONNRESET'))

    expect(await client.getTask(taskId)).toEqual({
      kind: 'retryable',
      reason: 'GoAPI unreachable (ECONNRESET)',
    })
  })

  it('when the task id holds URL characters, then it is escaped into one path segment', async () => {
    goapi()
      .intercept({ path: '/api/v1/task/a%2Fb%3Fc', method: 'GET' })
      .reply(404, { code: 404, message: 'task not found' }, JSON_HEADERS)

    expect(await client.getTask('a/b?c')).toEqual({ kind: 'not_found' })
  })
})

describe('secrecy', () => {
  it('when any outcome is returned, then the API key is nowhere in it', async () => {
    const pool = goapi()
    pool.intercept({ path: '/api/v1/task', method: 'POST' }).reply(200, success(goapiTask()), JSON_HEADERS)
    pool
      .intercept({ path: '/api/v1/task', method: 'POST' })
      .reply(429, { code: 429, message: 'slow down' }, { headers: { 'retry-after': '1' } })
    pool.intercept({ path: '/api/v1/task', method: 'POST' }).reply(401, { code: 401, message: 'bad key' })
    pool.intercept({ path: '/api/v1/task', method: 'POST' }).reply(502, 'gateway')
    pool.intercept({ path: '/api/v1/task', method: 'POST' }).replyWithError(errorWithCode('ECONNREFUSED'))
    pool.intercept({ path: '/api/v1/task', method: 'POST' }).replyWithError(errorWithCode('ECONNRESET'))
    pool.intercept({ path: '/api/v1/task/t', method: 'GET' }).reply(200, success(goapiTask()), JSON_HEADERS)
    pool
      .intercept({ path: '/api/v1/task/t', method: 'GET' })
      .reply(404, { code: 404, message: 'task not found' })
    pool.intercept({ path: '/api/v1/task/t', method: 'GET' }).reply(500, { code: 500, message: 'oops' })

    const outcomes = [
      ...(await sequential(6, () => client.createTask(INPUT))),
      ...(await sequential(3, () => client.getTask('t'))),
    ]

    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'created',
      'retryable',
      'rejected',
      'ambiguous',
      'retryable',
      'ambiguous',
      'found',
      'not_found',
      'retryable',
    ])
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(API_KEY)
  })

  it("when GoAPI's error message echoes the API key, then the outcome masks it", async () => {
    interceptCreate().reply(401, { code: 401, message: `invalid api key ${API_KEY}` }, JSON_HEADERS)

    const outcome = await client.createTask(INPUT)

    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 401 })
    expect(JSON.stringify(outcome)).not.toContain(API_KEY)
  })
})

async function sequential<T>(count: number, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (let index = 0; index < count; index += 1) results.push(await run())
  return results
}
