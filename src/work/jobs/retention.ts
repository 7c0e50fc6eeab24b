import { job } from '../job.js'
import { pruneFinished } from '../retention.repository.js'

/**
 * RETENTION_DAYS: what finished that long ago is deleted, every RETENTION_SWEEP_SECONDS, by one replica
 * at a time (the others find the sweep's lock held and skip it), in chunks of a few thousand rows with
 * a pause after each, beside the rounds: a backlog of millions holds up neither the other jobs nor
 * creations.
 */
export const retention = job<never>({
  name: 'retention',
  // The deletion is the whole of the work: nothing is leased.
  claim: async (deps, claim) => {
    if (deps.work.retentionMs <= 0) return []
    const cutoff = new Date(claim.now.getTime() - deps.work.retentionMs)
    const pruned = await pruneFinished(
      deps.sql,
      cutoff,
      (chunk) => {
        for (const [table, rows] of Object.entries(chunk))
          if (rows > 0) deps.metrics.pruned.inc({ table }, rows)
      },
      { signal: deps.stopping },
    )
    if (pruned && (pruned.captions > 0 || pruned.batches > 0))
      deps.log.info({ pruned }, 'retention sweep deleted finished work')
    return []
  },
  run: async () => {},
  subject: 'caption',
  idOf: () => '',
  everyMs: (deps) => deps.work.retentionSweepMs,
  beside: true,
})
