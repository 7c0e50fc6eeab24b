/** The caption statuses, in the only order a caption may move through them. */
export const CAPTION_STATUSES = [
  'queued',
  'pending',
  'processing',
  'completed',
  'failed',
  'canceled',
] as const
export type CaptionStatus = (typeof CAPTION_STATUSES)[number]
/** Final: `canceled` is a caption its caller stopped before GoAPI accepted it (never sent afterwards). */
export const TERMINAL_STATUSES: readonly CaptionStatus[] = ['completed', 'failed', 'canceled']
/** Not finished yet: background work still has something to do for these. */
export const OPEN_STATUSES: readonly CaptionStatus[] = ['queued', 'pending', 'processing']

export const isTerminal = (status: CaptionStatus): boolean => TERMINAL_STATUSES.includes(status)

/** How far along a status is: a move is a step forward only to a higher rank; the final ones rank last. */
export const RANK: Record<CaptionStatus, number> = {
  queued: 0,
  pending: 1,
  processing: 2,
  completed: 3,
  failed: 3,
  canceled: 3,
}
/** The rank of a final status. */
export const FINAL_RANK = RANK.completed
/** Each status's rank, in the order of CAPTION_STATUSES: a statement's rank of a row's status. */
export const RANKS_IN_ORDER: readonly number[] = CAPTION_STATUSES.map((status) => RANK[status])

/** Statuses a caption may be in for a move to `next` to be a step forward. */
export function statusesBefore(next: CaptionStatus): CaptionStatus[] {
  if (isTerminal(next)) return [...OPEN_STATUSES]
  return CAPTION_STATUSES.slice(0, CAPTION_STATUSES.indexOf(next))
}

/**
 * `status IN ('queued', 'pending', 'processing')` written out: the one place status words stand in SQL
 * text, because the partial index on open captions (captions_open_status_deadline_idx) is only used when
 * a statement repeats its predicate literally, even under a generic plan.
 */
export const IS_OPEN_LITERAL = `status IN (${OPEN_STATUSES.map((status) => `'${status}'`).join(', ')})`

/** The PostgreSQL channel a caption's id is notified on when it reaches a final status (a trigger's). */
export const CAPTION_FINISHED_CHANNEL = 'caption_finished'
