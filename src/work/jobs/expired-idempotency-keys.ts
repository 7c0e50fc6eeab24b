import { deleteExpiredKeys } from '../../api/idempotency.repository.js'
import { job } from '../job.js'

/** Expired idempotency keys are only kept from being replayed; deleting them once a minute is plenty. */
export const expiredIdempotencyKeys = job<never>({
  name: 'expired-idempotency-keys',
  // The deletion is the whole of the work: nothing is leased.
  claim: async (deps, claim) => {
    await deleteExpiredKeys(deps.sql, claim.now)
    return []
  },
  run: async () => {},
  subject: 'caption',
  idOf: () => '',
  everyMs: 60_000,
})
