import type { Db } from '../db/prisma.js'
import type { Caption, Prisma } from '../generated/prisma/client.js'
import { type CaptionStatus, OPEN_STATUSES, statusesBefore } from './statuses.js'

export type CaptionRow = Caption

export interface NewCaption {
  id: string
  caller: string
  imageUrl: string
  promptStyle: string
  captionLength: string
  callbackUrl: string | undefined
  metadata: Record<string, unknown>
  now: Date
  deadlineAt: Date
  /** The replica that submits it right away holds it, so no other replica sends it meanwhile. */
  lease: { owner: string; until: Date }
}

/**
 * A new caption, already leased by this replica and marked as being sent: should the replica die before
 * GoAPI answers, the caption is treated as maybe sent, never sent twice blindly.
 */

export function newCaptionData(caption: NewCaption): Prisma.CaptionCreateInput {
  return {
    id: caption.id,
    caller: caption.caller,
    status: 'queued',
    imageUrl: caption.imageUrl,
    promptStyle: caption.promptStyle,
    captionLength: caption.captionLength,
    callbackUrl: caption.callbackUrl ?? null,
    callbackState: caption.callbackUrl ? 'pending' : 'none',
    metadata: caption.metadata as Prisma.InputJsonObject,
    createdAt: caption.now,
    updatedAt: caption.now,
    deadlineAt: caption.deadlineAt,
    // Should the submitting replica die, background work takes the caption once the lease runs out.
    nextAttemptAt: caption.now,
    leaseOwner: caption.lease.owner,
    leaseExpiresAt: caption.lease.until,
    submitState: 'in_flight',
    submittedAt: caption.now,
    submitAttempts: 1,
  }
}

export function insertCaption(db: Db, data: Prisma.CaptionCreateInput): Promise<CaptionRow> {
  return db.caption.create({ data })
}

export function findCaption(db: Db, id: string): Promise<CaptionRow | null> {
  return db.caption.findUnique({ where: { id } })
}

/** A caption as its caller may see it: another caller's caption does not exist for it. */
export function findCallerCaption(db: Db, id: string, caller: string): Promise<CaptionRow | null> {
  return db.caption.findFirst({ where: { id, caller } })
}

export function findCaptionIdByTaskId(db: Db, goapiTaskId: string): Promise<string | undefined> {
  return db.caption.findUnique({ where: { goapiTaskId }, select: { id: true } }).then((row) => row?.id)
}

export interface ListPosition {
  createdAt: Date
  id: string
}

/** Newest first; `after` is the last row of the previous page. */
export function listCaptions(
  db: Db,
  options: {
    caller: string
    status: CaptionStatus | undefined
    limit: number
    after: ListPosition | undefined
  },
): Promise<CaptionRow[]> {
  const { after } = options
  return db.caption.findMany({
    where: {
      caller: options.caller,
      ...(options.status ? { status: options.status } : {}),
      ...(after
        ? {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, id: { lt: after.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: options.limit,
  })
}

export interface TaskUpdate {
  goapiTaskId: string
  status: CaptionStatus
  caption?: string
  error?: { code: string; message: string }
  goapiTask: Prisma.InputJsonValue
  now: Date
  /** When to ask GoAPI about it if no news comes first (ignored for a final status). */
  nextAttemptAt: Date
}

/**
 * Moves a caption forward to `update.status` in one conditional statement, so concurrent deliveries
 * race safely: only a step forward from an earlier status writes, and only for the caption's own task
 * (or a caption that has not learned its task id yet, which adopts it). Returns whether it wrote.
 */
export async function advanceCaption(
  db: Db,
  captionId: string,
  update: TaskUpdate,
  /** More columns to write in the same statement when the caption moves. */
  alsoSet: Prisma.CaptionUpdateManyMutationInput = {},
): Promise<boolean> {
  const terminal = update.status === 'completed' || update.status === 'failed'
  const { count } = await db.caption.updateMany({
    where: {
      id: captionId,
      status: { in: statusesBefore(update.status) },
      OR: [{ goapiTaskId: null }, { goapiTaskId: update.goapiTaskId }],
    },
    data: {
      ...alsoSet,
      status: update.status,
      goapiTaskId: update.goapiTaskId,
      goapiTask: update.goapiTask,
      updatedAt: update.now,
      ...(update.caption !== undefined ? { caption: update.caption } : {}),
      ...(update.error ? { errorCode: update.error.code, errorMessage: update.error.message } : {}),
      ...(terminal ? finished(update.now) : { nextAttemptAt: update.nextAttemptAt }),
    },
  })
  return count === 1
}

/** Ends a caption that has not ended yet as failed. */
export async function failCaption(
  db: Db,
  captionId: string,
  error: { code: string; message: string },
  now: Date,
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { id: captionId, status: { in: statusesBefore('failed') } },
    data: {
      status: 'failed',
      errorCode: error.code,
      errorMessage: error.message,
      updatedAt: now,
      ...finished(now),
    },
  })
  return count === 1
}

/** A final status: nothing more to ask GoAPI, and the caller's callback (if any) is due now. */
function finished(now: Date) {
  return { completedAt: now, nextAttemptAt: null, callbackNextAt: now }
}

/** Only the status: what background work reads to pick a caption's next step. */
export function findCaptionStatus(db: Db, id: string): Promise<CaptionStatus | undefined> {
  return db.caption.findUnique({ where: { id }, select: { status: true } }).then((row) => row?.status)
}

/** How many captions are not finished yet, per status. */
export async function countOpenCaptionsByStatus(db: Db): Promise<Record<CaptionStatus, number>> {
  const rows = await db.caption.groupBy({
    by: ['status'],
    where: { status: { in: [...OPEN_STATUSES] } },
    _count: { _all: true },
  })
  const counts = { queued: 0, pending: 0, processing: 0, completed: 0, failed: 0 }
  for (const row of rows) counts[row.status] = row._count._all
  return counts
}

/**
 * Records the outcome of a step of background work and gives the caption's lease back, in one
 * statement, only while `owner` still holds the lease. A replica whose lease ran out (it stalled and
 * another took over) writes nothing: returns false.
 */
export async function finishLeasedStep(
  db: Db,
  captionId: string,
  owner: string,
  changes: Prisma.CaptionUpdateManyMutationInput = {},
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { id: captionId, leaseOwner: owner },
    data: { ...changes, leaseOwner: null, leaseExpiresAt: null },
  })
  return count === 1
}

/** Writes in the middle of a step, keeping the lease; fenced on the lease like `finishLeasedStep`. */
export async function updateWhileLeased(
  db: Db,
  captionId: string,
  owner: string,
  where: Prisma.CaptionWhereInput,
  changes: Prisma.CaptionUpdateManyMutationInput,
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { ...where, id: captionId, leaseOwner: owner },
    data: changes,
  })
  return count === 1
}
