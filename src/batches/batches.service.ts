import { BatchNotFound, InvalidField, InvalidFields } from '../api/error-catalog.js'
import { validationDetails } from '../api/error-handler.js'
import { checkIdempotencyKey, createIdempotently, requestFingerprint } from '../api/idempotent-create.js'
import { readPage } from '../api/paging.js'
import { httpUrl } from '../api/schemas.js'
import { checkCallbackUrl, checkImageUrl } from '../callbacks/url-policy.js'
import { insertCaptions, type NewCaption } from '../captions/caption-rows.repository.js'
import { findSameImageCaptions, type SameImageCaptions, sameImageStart } from '../captions/reuse.js'
import { inTransaction } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import { centsToHold, holdFor } from '../spend/spend.service.js'
import { traceParentToKeep } from '../tracing/spans.js'
import { toBatchResource } from './batch-resource.js'
import {
  type BatchItemCounts,
  type BatchRow,
  countBatchItems,
  findCallerBatch,
  insertBatch,
  listBatches,
} from './batches.repository.js'
import { type BatchResource, type CreateBatchInput, promptStylesOf } from './batches.schemas.js'
import { fileNamesFor } from './file-names.js'

export interface CreateBatchResult {
  body: BatchResource
  /** True when this answer repeats an earlier request's with the same Idempotency-Key. */
  replayed: boolean
}

/**
 * POST /batches. Every item becomes a caption per prompt style, written with the batch in one transaction and sent by
 * background work as GoAPI task slots free up, exactly like a caption posted alone. With reuse (the
 * default), an item whose image the caller had captioned (same prompt style and length) within
 * REUSE_WINDOW_DAYS takes that text at once; one whose image is being captioned already, or repeats an
 * earlier item, waits for that caption and takes its text: each distinct image and style is paid once.
 */
export async function createBatch(
  deps: ServiceDeps,
  request: {
    input: CreateBatchInput
    caller: string
    idempotencyKey?: string | undefined
    traceParent?: unknown
  },
): Promise<CreateBatchResult> {
  const { input, caller, idempotencyKey } = request
  checkIdempotencyKey(idempotencyKey)
  checkUrls(deps, input)
  const now = deps.clock.now()
  const batchId = deps.newId()
  const traceParent = traceParentToKeep(request.traceParent)
  let reused = 0
  return createIdempotently(deps, {
    caller,
    key: idempotencyKey,
    fingerprint: () => requestFingerprint(input, 'POST /batches'),
    made: { batchId },
    now,
    accept: (claim) =>
      inTransaction(deps.sql, async (client) => {
        if (claim && !(await claim(client))) return undefined
        // Each item continues the trace of the request that made the batch.
        const captions = (await itemCaptions(deps, client, { input, caller, batchId, now })).map(
          (caption) => ({ ...caption, traceParent }),
        )
        reused = captions.filter((caption) => caption.start.kind === 'reuse').length
        // The whole batch fits the caller's budget for the day, or none of it is accepted.
        await holdFor(
          deps,
          client,
          caller,
          captions.reduce((cents, caption) => cents + caption.reservedCents, 0),
          now,
        )
        const batch = await insertBatch(client, {
          id: batchId,
          caller,
          total: captions.length,
          openItems: captions.length - reused,
          promptStyles: promptStylesOf(input),
          captionLength: input.captionLength,
          prepend: input.prepend,
          append: input.append,
          callbackUrl: input.callbackUrl,
          metadata: input.metadata ?? {},
          reuse: input.reuse,
          now,
        })
        await insertCaptions(client, captions)
        return batch
      }),
    answer: async (batch) => {
      deps.metrics.captionsCreated.inc(batch.total)
      // Items reused at once are finished as they are created.
      if (reused > 0) deps.metrics.captionsFinished.inc({ status: 'completed', code: '' }, reused)
      // Its items are sent by background work, which need not wait for its next round.
      deps.wake('queued')
      return toBatchResource(batch, {
        counts: {
          queued: batch.total - reused,
          pending: 0,
          processing: 0,
          completed: reused,
          failed: 0,
          canceled: 0,
        },
        reused,
        goapiTasks: 0,
      })
    },
    readAgain: (id) => getBatch(deps, id, caller),
  })
}

/** Every item's URL is checked before anything is written; all faults are named at once. */
export function checkUrls(deps: ServiceDeps, input: CreateBatchInput): void {
  const faults = urlFaults(
    deps,
    input.items.map((item) => item.imageUrl),
    input.callbackUrl,
  )
  if (faults.length === 1) throw faults[0]
  if (faults.length > 1) throw new InvalidFields(faults)
}

/** The URL rules of the deployment broken by each image URL (by item index) and the callback URL. */
function urlFaults(
  deps: Pick<ServiceDeps, 'urlPolicy'>,
  imageUrls: readonly (string | undefined)[],
  callbackUrl: string | undefined,
): InvalidField[] {
  const faults: InvalidField[] = []
  const check = (field: string, value: string | undefined, rule: typeof checkImageUrl) => {
    if (value === undefined) return
    try {
      rule(value, deps.urlPolicy)
    } catch (error) {
      if (!(error instanceof InvalidField)) throw error
      faults.push(new InvalidField(field, error.reason))
    }
  }
  imageUrls.forEach((imageUrl, index) => {
    check(`items[${index}].imageUrl`, imageUrl, checkImageUrl)
  })
  check('callbackUrl', callbackUrl, checkCallbackUrl)
  return faults
}

/**
 * A batch body its schema refused, as the one error that names every bad item: the URL rules of the
 * deployment are run on the URLs the schema let through, so that an item refused by the schema does not
 * hide another refused by a rule. Items come in index order, then the batch's own fields.
 */
export function refusedBatchBody(deps: Pick<ServiceDeps, 'urlPolicy'>, error: Error, body: unknown): Error {
  const details = validationDetails(error)
  if (details === undefined) return error
  const named = new Set(details.map((detail) => detail.field))
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const wellFormed = (field: string, value: unknown) =>
    named.has(field) ? undefined : httpUrl.safeParse(value).data
  const items = Array.isArray(raw.items) && !named.has('items') ? (raw.items as unknown[]) : []
  const faults = [
    ...details.map((detail) => new InvalidField(detail.field, detail.message)),
    ...urlFaults(
      deps,
      items.map((item, index) =>
        wellFormed(`items[${index}].imageUrl`, (item as { imageUrl?: unknown } | null)?.imageUrl),
      ),
      wellFormed('callbackUrl', raw.callbackUrl),
    ),
  ]
  const order = (field: string) => Number(/^items\[(\d+)\]/.exec(field)?.[1] ?? Number.MAX_SAFE_INTEGER)
  faults.sort((a, b) => order(a.field) - order(b.field))
  return faults.length === 1 ? (faults[0] as InvalidField) : new InvalidFields(faults)
}

/**
 * The batch's items as captions, one per item and style in item order (an item's styles in the batch's
 * order), each starting from a caption of the same image and style where reuse allows.
 */
export async function itemCaptions(
  deps: ServiceDeps,
  client: Parameters<typeof findSameImageCaptions>[0],
  batch: { input: CreateBatchInput; caller: string; batchId: string; now: Date },
): Promise<NewCaption[]> {
  const { input, caller, now } = batch
  const fileNames = fileNamesFor(input.items)
  const styles = promptStylesOf(input)
  const imageUrls = [...new Set(input.items.map((item) => item.imageUrl))]
  const foundByStyle: SameImageCaptions[] = []
  for (const promptStyle of styles) {
    foundByStyle.push(
      input.reuse
        ? await findSameImageCaptions(client, {
            caller,
            promptStyle,
            captionLength: input.captionLength,
            imageUrls,
            now,
            reuseWindowMs: deps.work.reuseWindowMs,
          })
        : { reusable: new Map(), inProgress: new Map() },
    )
  }
  return input.items.flatMap((item, index) =>
    styles.map((promptStyle, styleIndex): NewCaption => {
      const found = foundByStyle[styleIndex] as SameImageCaptions
      const id = deps.newId()
      const start = sameImageStart(found, item.imageUrl) ?? { kind: 'wait' }
      // The first item of an image nobody is captioning yet is sent; later ones of it wait for that one.
      if (input.reuse && start.kind === 'wait') found.inProgress.set(item.imageUrl, id)
      return {
        id,
        caller,
        imageUrl: item.imageUrl,
        promptStyle,
        captionLength: input.captionLength,
        callbackUrl: undefined,
        metadata: {},
        now,
        start,
        reuse: input.reuse,
        reservedCents: centsToHold(deps, caller, { reused: start.kind === 'reuse' }),
        simulated: deps.simulated,
        item: { batchId: batch.batchId, index, name: item.name, fileName: fileNames[index] as string },
      }
    }),
  )
}

export async function getBatch(
  deps: Pick<ServiceDeps, 'sql'>,
  id: string,
  caller: string,
): Promise<BatchResource> {
  const batch = await findOwnBatch(deps, id, caller)
  const counts = await countBatchItems(deps.sql, [batch.id])
  return toBatchResource(batch, counts.get(batch.id) as BatchItemCounts)
}

/** The caller's batch, for a check of ownership; another caller's batch does not exist for it. */
export async function findOwnBatch(
  deps: Pick<ServiceDeps, 'sql'>,
  id: string,
  caller: string,
): Promise<BatchRow> {
  const batch = await findCallerBatch(deps.sql, id, caller)
  if (!batch) throw new BatchNotFound(id)
  return batch
}

export async function listBatchPage(
  deps: Pick<ServiceDeps, 'sql'>,
  query: { limit: number; cursor?: string | undefined },
  caller: string,
): Promise<{ items: BatchResource[]; nextCursor: string | null }> {
  const page = await readPage(
    'time',
    query,
    ({ limit, after }) => listBatches(deps.sql, { caller, limit, after }),
    (last) => last,
  )
  const counts = await countBatchItems(
    deps.sql,
    page.items.map((batch) => batch.id),
  )
  return {
    items: page.items.map((batch) => toBatchResource(batch, counts.get(batch.id) as BatchItemCounts)),
    nextCursor: page.nextCursor,
  }
}
