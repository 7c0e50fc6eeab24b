import { Agent, type Dispatcher, request } from 'undici'
import {
  type GoapiTask,
  goapiEnvelopeSchema,
  goapiTaskSchema,
  JOYCAPTION_MODEL,
  JOYCAPTION_TASK_TYPE,
} from './task.js'

export interface CreateTaskInput {
  imageUrl: string
  promptStyle: string
  captionLength: string
  webhookEndpoint: string
  webhookSecret: string
}

/**
 * How a create call ended. The kinds decide what the caller may do next, because a create costs money:
 * - `created`: GoAPI has the task;
 * - `retryable`: GoAPI clearly did not take it (refused connection, 429, its own 5xx answer), send again;
 * - `rejected`: GoAPI refused it for good (bad input, key, credits, plan);
 * - `ambiguous`: the request left and no clear answer came back; GoAPI may have created and billed it.
 */
export type CreateTaskOutcome =
  | { kind: 'created'; task: GoapiTask }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'rejected'; httpStatus: number; message: string }
  | { kind: 'ambiguous'; reason: string }

export type GetTaskOutcome =
  | { kind: 'found'; task: GoapiTask }
  | { kind: 'not_found' }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'rejected'; httpStatus: number; message: string }

export interface GoapiClient {
  createTask(input: CreateTaskInput): Promise<CreateTaskOutcome>
  getTask(taskId: string): Promise<GetTaskOutcome>
  close(): Promise<void>
}

export interface GoapiClientOptions {
  baseUrl: string
  apiKey: string
  /** Tests pass a MockAgent; otherwise an Agent with the timeouts below. */
  dispatcher?: Dispatcher
  connectTimeoutMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
}

// Failures that happen before a byte of the request reaches GoAPI: sending again cannot double-bill.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
])

interface HttpReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: unknown
}

export function createGoapiClient(options: GoapiClientOptions): GoapiClient {
  const ownsDispatcher = options.dispatcher === undefined
  const dispatcher =
    options.dispatcher ??
    new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 5_000 },
      headersTimeout: options.headersTimeoutMs ?? 20_000,
      bodyTimeout: options.bodyTimeoutMs ?? 20_000,
    })
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const headers = { 'x-api-key': options.apiKey, accept: 'application/json' }
  // GoAPI's messages travel on to logs and callers; one that quotes the key must not carry it along.
  const hideKey = <T extends Classified>(outcome: T): T => {
    if (options.apiKey === '' || outcome.kind === 'ok') return outcome
    const text = outcome.kind === 'retryable' ? outcome.reason : outcome.message
    if (!text.includes(options.apiKey)) return outcome
    const masked = text.replaceAll(options.apiKey, '[REDACTED]')
    return outcome.kind === 'retryable' ? { ...outcome, reason: masked } : { ...outcome, message: masked }
  }

  async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpReply> {
    const response = await request(`${baseUrl}${path}`, {
      method,
      dispatcher,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    // The body is always read to the end so the connection goes back to the pool.
    const text = await response.body.text()
    return { status: response.statusCode, headers: response.headers, json: parseJson(text) }
  }

  return {
    async createTask(input) {
      let reply: HttpReply
      try {
        reply = await send('POST', '/api/v1/task', createTaskBody(input))
      } catch (error) {
        const code = errorCode(error)
        return NOT_SENT_CODES.has(code)
          ? { kind: 'retryable', reason: `GoAPI unreachable (${code})` }
          : { kind: 'ambiguous', reason: `no answer from GoAPI after the request was sent (${code})` }
      }
      const outcome = hideKey(classify(reply))
      if (outcome.kind !== 'ok') {
        // A 5xx that is not GoAPI's own error answer may come from a proxy after GoAPI took the task.
        if (
          outcome.kind === 'retryable' &&
          reply.status >= 500 &&
          reply.status !== 503 &&
          !isGoapiError(reply)
        ) {
          return { kind: 'ambiguous', reason: `GoAPI answered HTTP ${reply.status} without its error body` }
        }
        return outcome
      }
      const task = goapiTaskSchema.safeParse(outcome.data)
      return task.success
        ? { kind: 'created', task: task.data }
        : { kind: 'ambiguous', reason: 'GoAPI accepted the request but its answer holds no readable task' }
    },

    async getTask(taskId) {
      let reply: HttpReply
      try {
        reply = await send('GET', `/api/v1/task/${encodeURIComponent(taskId)}`)
      } catch (error) {
        return { kind: 'retryable', reason: `GoAPI unreachable (${errorCode(error)})` }
      }
      const outcome = hideKey(classify(reply))
      if (outcome.kind === 'rejected' && outcome.httpStatus === 404) return { kind: 'not_found' }
      if (outcome.kind !== 'ok') return outcome
      const task = goapiTaskSchema.safeParse(outcome.data)
      return task.success
        ? { kind: 'found', task: task.data }
        : { kind: 'retryable', reason: 'GoAPI answered without a readable task' }
    },

    async close() {
      if (ownsDispatcher) await dispatcher.close()
    },
  }
}

/** The create body exactly as GoAPI's Joycaption page shows it. */
export function createTaskBody(input: CreateTaskInput) {
  return {
    model: JOYCAPTION_MODEL,
    task_type: JOYCAPTION_TASK_TYPE,
    input: {
      workflow_type: JOYCAPTION_TASK_TYPE,
      prompt_style: input.promptStyle,
      caption_length: input.captionLength,
      image: input.imageUrl,
    },
    config: { webhook_config: { endpoint: input.webhookEndpoint, secret: input.webhookSecret } },
  }
}

type Classified =
  | { kind: 'ok'; data: unknown }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  | { kind: 'rejected'; httpStatus: number; message: string }

/** Sorts an HTTP answer by the HTTP status and, on a 200, by the envelope's own `code`. */
function classify(reply: HttpReply): Classified {
  const envelope = goapiEnvelopeSchema.safeParse(reply.json)
  // GoAPI may answer HTTP 200 with an error code inside the envelope; that code then decides.
  const status =
    reply.status === 200 && envelope.success && envelope.data.code !== 200 ? envelope.data.code : reply.status
  if (status >= 200 && status < 300)
    return { kind: 'ok', data: envelope.success ? envelope.data.data : undefined }
  const message = goapiMessage(reply.json) ?? `HTTP ${status}`
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(reply.headers['retry-after'])
    return {
      kind: 'retryable',
      reason: `GoAPI answered ${status}: ${message}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    }
  }
  return { kind: 'rejected', httpStatus: status, message }
}

function isGoapiError(reply: HttpReply): boolean {
  return goapiMessage(reply.json) !== undefined
}

function goapiMessage(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined
  const body = json as { message?: unknown; error?: { message?: unknown } }
  const candidates = [body.message, body.error?.message]
  const found = candidates.find((value): value is string => typeof value === 'string' && value.trim() !== '')
  return found?.trim().slice(0, 500)
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: Date = new Date(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined || raw.trim() === '') return undefined
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000
  // Every HTTP-date form starts with the day name; Date.parse alone would take "1.5" or "-1" for a date.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)/i.test(raw.trim())) return undefined
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime())
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (typeof code === 'string') return code
    if (typeof name === 'string') return name
  }
  return 'unknown error'
}
