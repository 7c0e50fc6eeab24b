import { deliverCaptionCallback } from '../../captions/callbacks.js'
import type { CaptionRow } from '../../captions/caption-rows.repository.js'
import { job } from '../job.js'
import { claimDueCallbacks } from '../work.repository.js'

/** Finished captions whose caller is still to be told at its callbackUrl. */
export const captionCallbacks = job<CaptionRow>({
  name: 'caption-callbacks',
  claim: (deps, claim) => claimDueCallbacks(deps.sql, claim),
  run: (deps, caption) => deliverCaptionCallback(deps, caption.id, caption),
  subject: 'caption',
  idOf: (caption) => caption.id,
  alsoOn: 'wake-up',
  cutShortOnStop: true,
})
