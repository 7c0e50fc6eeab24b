import type { ServiceDeps } from '../deps.js'
import { findCaptionStatus } from './caption-rows.repository.js'
import { pollCaption } from './poll.js'
import { submitCaption } from './submit.js'

/**
 * The next step of a caption that background work has leased: a caption GoAPI has not accepted yet is
 * submitted, any other is asked about (and failed once past its deadline).
 */
export async function takeNextStep(deps: ServiceDeps, captionId: string): Promise<void> {
  if ((await findCaptionStatus(deps.sql, captionId)) === 'queued') await submitCaption(deps, captionId)
  else await pollCaption(deps, captionId)
}
