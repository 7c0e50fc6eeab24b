import type { Sql } from '../db/pool.js'

/** A create call's answer that did not move its caption forward itself. */
export type CreateAnswer = { kind: 'created' } | { kind: 'ambiguous'; resendAt: Date }

/**
 * Records a create call's answer that did not move the caption (a webhook got there first, or the call
 * gave no clear answer) and gives `owner`'s lease back, in one statement fenced on that lease. The call's
 * task is counted here only when no task has been adopted for the caption meanwhile: a webhook or poll
 * that adopted it counted it already (`advanceCaptions`). So a task is counted once, whichever of its
 * webhook and the create's answer comes first, and the caption's spend (the `caption_charge` trigger)
 * follows the count whether the caption has ended or not.
 */
export async function recordCreateAnswer(
  sql: Sql,
  captionId: string,
  owner: string,
  answer: CreateAnswer,
): Promise<boolean> {
  const ambiguous = answer.kind === 'ambiguous'
  const { rowCount } = await sql.query({
    name: 'record-create-answer',
    text: `UPDATE captions SET
        goapi_tasks = goapi_tasks + CASE WHEN goapi_task_id IS NULL THEN 1 ELSE 0 END,
        submit_state = CASE WHEN $3 THEN 'ambiguous'::submit_state ELSE 'accepted'::submit_state END,
        next_attempt_at = CASE WHEN $3 THEN $4::timestamptz ELSE next_attempt_at END,
        lease_owner = NULL, lease_expires_at = NULL
      WHERE id = $1 AND lease_owner = $2`,
    values: [captionId, owner, ambiguous, ambiguous ? answer.resendAt : null],
  })
  return rowCount === 1
}
