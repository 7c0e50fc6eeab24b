import { createHash } from 'node:crypto'
import { checkCallbackUrl, checkImageUrl } from '../callbacks/url-policy.js'
import { inTransaction, type Queryable } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import {
  CaptionNotFound,
  IdempotencyKeyInProgress,
  IdempotencyKeyReused,
  InvalidCursor,
  InvalidIdempotencyKey,
} from '../errors.js'
import type { IdempotencyKey } from '../generated/prisma/client.js'
import { addMs } from '../lib/backoff.js'
import { CENTS_PER_TASK, centsToUsd } from '../spend/money.js'
import { holdFor } from '../spend/spend.service.js'
import { traceParentToKeep } from '../tracing/spans.js'
import {
  type CaptionRow,
  type CaptionStart,
  type CaptionView,
  findCallerCaption,
  findCaption,
  findSameImageCaptions,
  insertCaption,
  type JsonValue,
  type ListPosition,
  listCaptions,
  type NewCaption,
} from './captions.repository.js'
import type { CaptionResource, CreateCaptionInput } from './captions.schemas.js'
import { claimKey, type KeyClaim, saveKeyAnswer } from './idempotency.repository.js'
import { lockSlotsAndCount } from './slots.repository.js'
import type { CaptionStatus } from './statuses.js'
import { sendToGoapi } from './submit.js'

export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/

export interface CreateCaptionResult {
  statusCode: 202
  body: CaptionResource
  /** True when this answer repeats an earlier request's with the same Idempotency-Key. */
  replayed: boolean
}

/**
 * POST /captions. The caption row is committed first (it is its own outbox), then submitted to GoAPI
 * while this replica holds its lease; should that fail or this process die, background work carries on.
 * With an Idempotency-Key the first request's answer is kept for 24 hours and replayed for the same
 * body; a different body under the same key is refused.
 */
export async function createCaption(
  deps: ServiceDeps,
  request: {
    input: CreateCaptionInput
    caller: string
    idempotencyKey?: string | undefined
    traceParent?: unknown
  },
): Promise<CreateCaptionResult> {
  const { input, caller, idempotencyKey } = request
  checkIdempotencyKey(idempotencyKey)
  checkImageUrl(input.imageUrl, deps.urlPolicy)
  if (input.callbackUrl !== undefined) checkCallbackUrl(input.callbackUrl, deps.urlPolicy)
  const now = deps.clock.now()
  const caption: NewCaption = {
    id: deps.newId(),
    caller,
    imageUrl: input.imageUrl,
    promptStyle: input.promptStyle,
    captionLength: input.captionLength,
    callbackUrl: input.callbackUrl,
    metadata: input.metadata ?? {},
    now,
    start: sendNow(deps, now),
    reuse: input.reuse ?? false,
    reservedCents: 0,
    simulated: deps.simulated,
    traceParent: traceParentToKeep(request.traceParent),
  }

  if (idempotencyKey === undefined) {
    const row = await acceptCaption(deps, caption)
    countAccepted(deps, row)
    return { statusCode: 202, body: await submitAndRead(deps, row), replayed: false }
  }

  const requestHash = fingerprint(input)
  const claim = {
    caller,
    key: idempotencyKey,
    requestHash,
    now,
    expiresAt: addMs(now, IDEMPOTENCY_KEY_TTL_MS),
  }
  const outcome = await acceptCaption(deps, caption, claim)
  if (!('taken' in outcome)) {
    countAccepted(deps, outcome)
    const body = await submitAndRead(deps, outcome)
    await saveKeyAnswer(deps.sql, caller, idempotencyKey, { status: 202, body: body as JsonValue })
    return { statusCode: 202, body, replayed: false }
  }
  const replay = outcome.taken
  if (replay.requestHash !== requestHash || replay.captionId === null) throw new IdempotencyKeyReused()
  if (replay.responseBody !== null) {
    return {
      statusCode: 202,
      body: await withCallbackFields(deps, {
        captionId: replay.captionId,
        responseBody: replay.responseBody,
      }),
      replayed: true,
    }
  }
  // The first request has not answered yet. Once longer than a lease has passed, the replica that took
  // it must have died before answering; the caption it recorded is then the answer.
  if (now.getTime() - replay.createdAt.getTime() < deps.work.leaseMs) throw new IdempotencyKeyInProgress()
  return {
    statusCode: 202,
    body: toCaptionResource(await getCaption(deps, replay.captionId, caller)),
    replayed: true,
  }
}

/** Sent at once by this replica, which holds the caption meanwhile. */
export function sendNow(deps: Pick<ServiceDeps, 'work' | 'workerId'>, now: Date): CaptionStart {
  return {
    kind: 'send',
    lease: { owner: deps.workerId, until: addMs(now, deps.work.leaseMs) },
    deadlineAt: addMs(now, deps.work.deadlineMs),
  }
}

/**
 * A caption accepted is counted created; one reused at once is finished as it is created, and counted
 * so, so that at rest created = finished + open.
 */
function countAccepted(deps: Pick<ServiceDeps, 'metrics'>, row: Pick<CaptionRow, 'status'>): void {
  deps.metrics.captionsCreated.inc()
  if (row.status === 'completed') deps.metrics.captionsFinished.inc({ status: 'completed', code: '' })
}

/**
 * Records a new caption. Plainly one statement; with an Idempotency-Key, reuse, a daily budget or a cap
 * on GoAPI tasks, one transaction that also takes the key, looks for a caption of the same image, holds
 * the caller's budget, and counts the task slots in use: the caption is then sent at once only if a
 * slot is free, and waits queued otherwise.
 */
function acceptCaption(deps: ServiceDeps, caption: NewCaption): Promise<CaptionRow>
function acceptCaption(
  deps: ServiceDeps,
  caption: NewCaption,
  key: KeyClaim,
): Promise<CaptionRow | { taken: IdempotencyKey }>
async function acceptCaption(
  deps: ServiceDeps,
  caption: NewCaption,
  key?: KeyClaim,
): Promise<CaptionRow | { taken: IdempotencyKey }> {
  const budgeted = deps.budgets.has(caption.caller)
  if (key === undefined && !caption.reuse && !budgeted && deps.work.maxConcurrency === 0)
    return insertCaption(deps.sql, caption)
  return inTransaction(deps.sql, async (client) => {
    const taken = key && (await claimKey(client, key, { captionId: caption.id }))
    if (taken) return { taken }
    const start = await startOf(client, deps, caption)
    // Held until the caption ends; given back unless a task was made for it.
    const reservedCents = start.kind === 'reuse' || !budgeted ? 0 : CENTS_PER_TASK
    await holdFor(deps, client, caption.caller, reservedCents, caption.now)
    return insertCaption(client, { ...caption, start: await withSlot(client, deps, start), reservedCents })
  })
}

/** How a caption accepted now starts: from a caption of the same image where reuse allows, else sent. */
async function startOf(client: Queryable, deps: ServiceDeps, caption: NewCaption): Promise<CaptionStart> {
  if (caption.reuse) {
    const { sources, leaders } = await findSameImageCaptions(client, {
      caller: caption.caller,
      promptStyle: caption.promptStyle,
      captionLength: caption.captionLength,
      imageUrls: [caption.imageUrl],
      since: new Date(caption.now.getTime() - deps.work.reuseWindowMs),
    })
    const source = sources.get(caption.imageUrl)
    if (source) return { kind: 'reuse', from: source }
    const leader = leaders.get(caption.imageUrl)
    if (leader) return { kind: 'follow', leader }
  }
  return caption.start
}

/** A caption to send now waits instead when every GoAPI task slot is taken. */
async function withSlot(client: Queryable, deps: ServiceDeps, start: CaptionStart): Promise<CaptionStart> {
  const max = deps.work.maxConcurrency
  if (start.kind !== 'send' || max === 0) return start
  return (await lockSlotsAndCount(client)) >= max ? { kind: 'wait' } : start
}

export function checkIdempotencyKey(key: string | undefined): void {
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
    throw new InvalidIdempotencyKey('must be 1 to 255 printable ASCII characters')
}

/**
 * A kept answer as it was first sent. Answers kept before the caption resource showed its callback lack
 * those fields; they get them as the first answer would have shown them (nothing attempted yet).
 */
async function withCallbackFields(
  deps: ServiceDeps,
  replay: { captionId: string; responseBody: unknown },
): Promise<CaptionResource> {
  // Answers kept before captions showed their batch, reuse and cost: a caption posted alone, nothing paid.
  const body = { ...BEFORE_BATCHES, ...(replay.responseBody as CaptionResource) }
  if (body.callback !== undefined) return body
  const { callbackUrl } = await findCaptionById(deps, replay.captionId)
  return { ...body, callbackUrl, callback: { state: callbackUrl ? 'pending' : 'none', attempts: 0 } }
}

const BEFORE_BATCHES = { batchId: null, name: null, fileName: null, reusedFrom: null, costUsd: 0 }

async function findCaptionById(deps: ServiceDeps, id: string): Promise<CaptionRow> {
  const caption = await findCaption(deps.sql, id)
  if (!caption) throw new CaptionNotFound(id)
  return caption
}

/** The new caption as the caller is first shown it: once GoAPI has answered, when it was sent now. */
async function submitAndRead(deps: ServiceDeps, caption: CaptionRow): Promise<CaptionResource> {
  if (caption.leaseOwner !== deps.workerId || caption.submitState !== 'in_flight') {
    // Reused, or waiting for a task slot or for a caption of the same image: background work goes on.
    deps.wake('queued')
    return toCaptionResource(caption)
  }
  const moved = await sendToGoapi(deps, caption)
  return toCaptionResource(moved ?? (await getCaption(deps, caption.id, caption.caller)))
}

/** The request as the service understood it (defaults filled in, keys sorted): same meaning, same print. */
function fingerprint(input: CreateCaptionInput): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex')
}

/** JSON with every object's keys sorted; a loop, not recursion, so no nesting can exhaust the stack. */
export function canonicalJson(value: unknown): string {
  let text = ''
  // What is left to write, next last: a value, or punctuation to append as it is.
  const pending: ({ value: unknown } | string)[] = [{ value }]
  while (pending.length > 0) {
    const next = pending.pop() as { value: unknown } | string
    if (typeof next === 'string') {
      text += next
      continue
    }
    const current = next.value
    if (current === null || typeof current !== 'object') {
      text += JSON.stringify(current) ?? ''
      continue
    }
    const parts: ({ value: unknown } | string)[] = []
    if (Array.isArray(current)) {
      for (const inner of current) parts.push(',', { value: inner })
    } else {
      const entries = Object.entries(current)
        .filter(([, inner]) => inner !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [key, inner] of entries) parts.push(`,${JSON.stringify(key)}:`, { value: inner })
    }
    const [open, close] = Array.isArray(current) ? ['[', ']'] : ['{', '}']
    if (typeof parts[0] === 'string') parts[0] = parts[0].slice(1)
    pending.push(close)
    for (let index = parts.length - 1; index >= 0; index--)
      pending.push(parts[index] as (typeof parts)[number])
    pending.push(open)
  }
  return text
}

export async function getCaption(
  deps: Pick<ServiceDeps, 'sql'>,
  id: string,
  caller: string,
): Promise<CaptionView> {
  const caption = await findCallerCaption(deps.sql, id, caller)
  if (!caption) throw new CaptionNotFound(id)
  return caption
}

export async function listCaptionPage(
  deps: Pick<ServiceDeps, 'sql'>,
  query: { status?: CaptionStatus | undefined; limit: number; cursor?: string | undefined },
  caller: string,
): Promise<{ items: CaptionView[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  // One row more than asked tells whether another page exists without a count.
  const rows = await listCaptions(deps.sql, { caller, status: query.status, limit: query.limit + 1, after })
  const items = rows.slice(0, query.limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null }
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url')
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
// What PostgreSQL's timestamptz takes (it has no year 0, and the driver cannot write years before it).
const EARLIEST_CURSOR = Date.parse('0001-01-01T00:00:00.000Z')
const LATEST_CURSOR = Date.parse('9999-12-31T23:59:59.999Z')

/** Far longer than any cursor this service issues: a longer one is refused before it is decoded. */
export const MAX_CURSOR_LENGTH = 512

export function decodeCursor(cursor: string): ListPosition {
  if (cursor.length > MAX_CURSOR_LENGTH) throw new InvalidCursor()
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    const date = typeof createdAt === 'string' ? new Date(createdAt) : undefined
    const time = date?.getTime() ?? Number.NaN
    if (date && time >= EARLIEST_CURSOR && time <= LATEST_CURSOR && typeof id === 'string' && UUID.test(id))
      return { createdAt: date, id }
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursor()
}

export function toCaptionResource(row: CaptionView): CaptionResource {
  return {
    id: row.id,
    status: row.status,
    imageUrl: row.imageUrl,
    promptStyle: row.promptStyle,
    captionLength: row.captionLength,
    caption: row.caption,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    goapiTaskId: row.goapiTaskId,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    callbackUrl: row.callbackUrl,
    callback: { state: row.callbackState, attempts: row.callbackAttempts },
    batchId: row.batchId,
    name: row.name,
    fileName: row.fileName,
    reusedFrom: row.reusedFrom,
    costUsd: centsToUsd(row.goapiTasks * CENTS_PER_TASK),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  }
}
