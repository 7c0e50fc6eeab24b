import { readPage } from '../api/paging.js'
import type { CaptionView } from '../captions/caption-rows.repository.js'
import { toCaptionResource } from '../captions/captions.service.js'
import type { CaptionStatus } from '../captions/statuses.js'
import type { ServiceDeps } from '../deps.js'
import { batchStyles } from './batch-resource.js'
import { listBatchCaptions } from './batches.repository.js'
import type { BatchItemResource } from './batches.schemas.js'
import { findOwnBatch } from './batches.service.js'

/**
 * A batch's items in item order, a page at a time: each item is its caption in the batch's first style
 * (the first it still has), with `captions` holding all of them by style.
 */
export async function listBatchCaptionPage(
  deps: Pick<ServiceDeps, 'sql'>,
  request: {
    batchId: string
    status?: CaptionStatus | undefined
    limit: number
    cursor?: string | undefined
  },
  caller: string,
): Promise<{ items: BatchItemResource[]; nextCursor: string | null }> {
  const batch = await findOwnBatch(deps, request.batchId, caller)
  const page = await readPage(
    'item',
    request,
    async ({ limit, after }) =>
      itemsOf(
        await listBatchCaptions(deps.sql, {
          batchId: request.batchId,
          styles: batchStyles(batch),
          status: request.status,
          limit,
          afterIndex: after,
        }),
      ),
    (last) => last.itemIndex,
  )
  return { items: page.items.map((item) => item.resource), nextCursor: page.nextCursor }
}

/** Rows in item order grouped into items. */
function itemsOf(
  rows: readonly (CaptionView & { itemIndex: number })[],
): { itemIndex: number; resource: BatchItemResource }[] {
  const items: { itemIndex: number; resource: BatchItemResource }[] = []
  for (const row of rows) {
    const caption = toCaptionResource(row)
    const last = items.at(-1)
    if (last?.itemIndex === row.itemIndex) last.resource.captions.push(caption)
    else items.push({ itemIndex: row.itemIndex, resource: { ...caption, captions: [caption] } })
  }
  return items
}
