import { CaptionNotFound } from '../api/error-catalog.js'
import {
  type ClaimKey,
  checkIdempotencyKey,
  createIdempotently,
  requestFingerprint,
} from '../api/idempotent-create.js'
import { readPage } from '../api/paging.js'
import { checkCallbackUrl, checkImageUrl } from '../callbacks/url-policy.js'
import { inTransaction, type Queryable } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import { addMs } from '../lib/backoff.js'
import { CENTS_PER_TASK, centsToUsd } from '../spend/money.js'
import { centsToHold, holdFor } from '../spend/spend.service.js'
import { traceParentToKeep } from '../tracing/spans.js'
import { type CaptionJson, readCallerCaptionJson } from './caption-json.repository.js'
import { type CaptionFilters, type ListedCaption, listCaptions } from './caption-list.repository.js'
import {
  type CaptionRow,
  type CaptionStart,
  type CaptionView,
  findCallerCaption,
  insertCaption,
  insertCaptionTakingSlot,
  type NewCaption,
} from './caption-rows.repository.js'
import type { CaptionResource, CreateCaptionInput } from './captions.schemas.js'
import { findSameImageCaptions, sameImageStart } from './reuse.js'
import { setSlotCount } from './slots.repository.js'
import { sendToGoapi } from './submit.js'

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
    start: startSendingNow(deps, now),
    reuse: input.reuse ?? false,
    reservedCents: 0,
    simulated: deps.simulated,
    traceParent: traceParentToKeep(request.traceParent),
  }

  const { body, replayed } = await createIdempotently(deps, {
    caller,
    key: idempotencyKey,
    fingerprint: () => requestFingerprint(input),
    made: { captionId: caption.id },
    now,
    accept: (claim) => acceptCaption(deps, caption, claim),
    answer: async (row) => {
      countAccepted(deps, row)
      return submitAndRead(deps, row)
    },
    readAgain: async (id) => toCaptionResource(await getCaption(deps, id, caller)),
  })
  return { statusCode: 202, body, replayed }
}

/** The start of a caption sent at once by this replica, which holds the caption meanwhile. */
export function startSendingNow(deps: Pick<ServiceDeps, 'work' | 'workerId'>, now: Date): CaptionStart {
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
 * Records a new caption in one statement, which under a cap on GoAPI tasks also takes a free task slot:
 * the caption is then sent at once only if it got one, and waits queued otherwise. With an
 * Idempotency-Key, reuse or a daily budget, one transaction that also takes the key, looks for a caption
 * of the same image and holds the caller's budget.
 */
async function acceptCaption(
  deps: ServiceDeps,
  caption: NewCaption,
  claim: ClaimKey | undefined,
): Promise<CaptionRow | undefined> {
  const budgeted = deps.budgets.has(caption.caller)
  await setSlotCount(deps.sql, deps.work.maxConcurrency)
  const insert = deps.work.maxConcurrency === 0 ? insertCaption : insertCaptionTakingSlot
  if (claim === undefined && !caption.reuse && !budgeted) return insert(deps.sql, caption)
  return inTransaction(deps.sql, async (client) => {
    if (claim && !(await claim(client))) return undefined
    const start = await startOf(client, deps, caption)
    const reservedCents = centsToHold(deps, caption.caller, { reused: start.kind === 'reuse' })
    await holdFor(deps, client, caption.caller, reservedCents, caption.now)
    return insert(client, { ...caption, start, reservedCents })
  })
}

/** How a caption accepted now starts: from a caption of the same image where reuse allows, else sent. */
async function startOf(client: Queryable, deps: ServiceDeps, caption: NewCaption): Promise<CaptionStart> {
  if (caption.reuse) {
    const found = await findSameImageCaptions(client, {
      caller: caption.caller,
      promptStyle: caption.promptStyle,
      captionLength: caption.captionLength,
      imageUrls: [caption.imageUrl],
      now: caption.now,
      reuseWindowMs: deps.work.reuseWindowMs,
    })
    const start = sameImageStart(found, caption.imageUrl)
    if (start) return start
  }
  return caption.start
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

export async function getCaption(
  deps: Pick<ServiceDeps, 'sql'>,
  id: string,
  caller: string,
): Promise<CaptionView> {
  const caption = await findCallerCaption(deps.sql, id, caller)
  if (!caption) throw new CaptionNotFound(id)
  return caption
}

/** GET /captions/{id}: the caller's caption as its resource's JSON text, written by PostgreSQL. */
export async function getCaptionJson(
  deps: Pick<ServiceDeps, 'sql'>,
  id: string,
  caller: string,
): Promise<CaptionJson> {
  const caption = await readCallerCaptionJson(deps.sql, id, caller)
  if (!caption) throw new CaptionNotFound(id)
  return caption
}

export async function listCaptionPage(
  deps: Pick<ServiceDeps, 'sql'>,
  query: CaptionFilters & { limit: number; cursor?: string | undefined },
  caller: string,
): Promise<{ items: ListedCaption[]; nextCursor: string | null }> {
  const { status, batchId, createdAfter, createdBefore } = query
  const filters: CaptionFilters = { status, batchId, createdAfter, createdBefore }
  return readPage(
    'time',
    query,
    ({ limit, after }) => listCaptions(deps.sql, { caller, filters, limit, after }),
    (last) => last,
  )
}

/** A caption's resource; CAPTION_RESOURCE_JSON (caption-json.repository.ts) writes the same in SQL. */
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
    retries: row.retries,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  }
}
