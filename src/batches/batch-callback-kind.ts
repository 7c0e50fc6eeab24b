import type { CallbackSubjectKind } from '../callbacks/subjects.js'
import { BATCH_COLUMNS } from './batches.repository.js'

/**
 * Where a batch keeps its callback columns, for callbacks/ statements: constants, apart from the
 * adapter (batch-callbacks.ts) so that /metrics can count due callbacks without the batches service.
 */
export const BATCH_CALLBACK_KIND: CallbackSubjectKind = {
  name: 'batch',
  table: 'batches',
  eventColumn: 'batch_id',
  finished: 'completed_at IS NOT NULL',
  prefix: 'batch-',
  idHeader: 'x-batch-id',
  columns: BATCH_COLUMNS,
}
