import { foldPastUsageDays } from '../../spend/usage-days.repository.js'
import { utcDay } from '../../spend/utc-days.js'
import { job } from '../job.js'

/**
 * The per-day usage counts of past days folded into one row per caller and day (and days that came to 0
 * deleted), once an hour, retention or not, beside the rounds. Every replica folds; folds at once are
 * safe, and one that finds nothing to fold reads the table's index: a row per caller and day by then.
 */
export const usageDaysFold = job<never>({
  name: 'usage-days-fold',
  // The folding is the whole of the work: nothing is leased.
  claim: async (deps, claim) => {
    const folded = await foldPastUsageDays(deps.sql, utcDay(claim.now), { signal: deps.stopping })
    if (folded.rows > 0 || folded.emptyDays > 0)
      deps.log.info({ folded }, 'per-day usage counts of past days folded')
    return []
  },
  run: async () => {},
  subject: 'caption',
  idOf: () => '',
  everyMs: 3_600_000,
  beside: true,
})
