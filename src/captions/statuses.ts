/** The caption statuses, in the only order a caption may move through them. */
export const CAPTION_STATUSES = ['queued', 'pending', 'processing', 'completed', 'failed'] as const
export type CaptionStatus = (typeof CAPTION_STATUSES)[number]
export const TERMINAL_STATUSES: readonly CaptionStatus[] = ['completed', 'failed']
/** Not finished yet: background work still has something to do for these. */
export const OPEN_STATUSES: readonly CaptionStatus[] = ['queued', 'pending', 'processing']

export const isTerminal = (status: CaptionStatus): boolean => TERMINAL_STATUSES.includes(status)

/** Statuses a caption may be in for a move to `next` to be a step forward. */
export function statusesBefore(next: CaptionStatus): CaptionStatus[] {
  if (isTerminal(next)) return [...OPEN_STATUSES]
  return CAPTION_STATUSES.slice(0, CAPTION_STATUSES.indexOf(next))
}
