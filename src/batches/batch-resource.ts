import { CENTS_PER_TASK, centsToUsd } from '../spend/money.js'
import type { BatchItemCounts, BatchRow } from './batches.repository.js'
import type { BatchResource } from './batches.schemas.js'

/** The batch as GET /batches/{id} shows it, and as its `batch.completed` event carries it. */
export function toBatchResource(row: BatchRow, items: BatchItemCounts): BatchResource {
  return {
    id: row.id,
    status: row.completedAt ? 'completed' : 'running',
    total: row.total,
    counts: items.counts,
    reused: items.reused,
    costUsd: centsToUsd(items.goapiTasks * CENTS_PER_TASK),
    promptStyle: row.promptStyle,
    promptStyles: batchStyles(row),
    captionLength: row.captionLength,
    prepend: row.prepend,
    append: row.append,
    callbackUrl: row.callbackUrl,
    callback: { state: row.callbackState, attempts: row.callbackAttempts },
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  }
}

/** The styles each item of the batch is captioned in, in order (a batch from before promptStyles has one). */
export function batchStyles(row: Pick<BatchRow, 'promptStyle' | 'promptStyles'>): string[] {
  return row.promptStyles?.length ? row.promptStyles : [row.promptStyle]
}
