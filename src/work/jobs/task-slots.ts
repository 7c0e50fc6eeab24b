import type { CaptionRow } from '../../captions/caption-rows.repository.js'
import { takeFreeSlots } from '../../captions/slots.repository.js'
import { sendWithSlot } from '../../captions/submit.js'
import { addMs } from '../../lib/backoff.js'
import { job } from '../job.js'

/** Free GoAPI task slots given to queued captions, which are sent at once. */
export const taskSlots = job<CaptionRow>({
  name: 'task-slots',
  claim: (deps, claim) =>
    takeFreeSlots(deps.sql, {
      ...claim,
      deadlineAt: addMs(claim.now, deps.work.deadlineMs),
      maxConcurrency: deps.work.maxConcurrency,
    }),
  run: (deps, caption) => sendWithSlot(deps, caption),
  subject: 'caption',
  idOf: (caption) => caption.id,
  alsoOn: 'slots',
})
