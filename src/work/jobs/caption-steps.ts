import { takeNextStep } from '../../captions/next-step.js'
import { job } from '../job.js'
import { claimDueCaptions } from '../work.repository.js'

/** Captions in motion whose next step is due: a create with no clear answer yet, or a question to GoAPI. */
export const captionSteps = job<string>({
  name: 'caption-steps',
  claim: (deps, claim) => claimDueCaptions(deps.sql, claim),
  run: (deps, id) => takeNextStep(deps, id),
  subject: 'caption',
  idOf: (id) => id,
  claimedFirst: true,
})
