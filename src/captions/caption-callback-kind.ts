import type { CallbackSubjectKind } from '../callbacks/subjects.js'
import { captionColumns } from './caption-rows.repository.js'
import { TERMINAL_STATUSES } from './statuses.js'

/**
 * Where a caption keeps its callback columns, for callbacks/ statements: constants, apart from the
 * adapter (caption-callbacks.ts) so that /metrics can count due callbacks without the captions service.
 */
export const CAPTION_CALLBACK_KIND: CallbackSubjectKind = {
  name: 'caption',
  table: 'captions',
  eventColumn: 'caption_id',
  // Written from statuses.ts into the statement text: constants, never input.
  finished: `status IN (${TERMINAL_STATUSES.map((status) => `'${status}'`).join(', ')})`,
  prefix: '',
  idHeader: 'x-caption-id',
  columns: captionColumns(),
}
