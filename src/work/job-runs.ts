import type { FastifyBaseLogger } from 'fastify'
import type { AnyJob, JobDeps } from './job.js'
import type { Claim } from './work.repository.js'

/**
 * Runs jobs' rows and keeps track of them: every run in flight (a stop waits for them), and among them
 * the callback deliveries (a stop that runs out of time cuts those short).
 */
export interface JobRuns {
  /** Claims what `job` has due and runs each row; resolves with how many it took, once all ran. */
  claimAndRun(job: AnyJob, deps: JobDeps, claim: Claim): Promise<number>
  /** Runs rows already claimed; resolves with how many, once all ran. */
  runClaimed(job: AnyJob, deps: JobDeps, rows: readonly unknown[]): Promise<number>
  /** Keeps `promise` among the runs a stop waits for, until it settles. */
  track(promise: Promise<unknown>): void
  readonly running: ReadonlySet<Promise<unknown>>
  readonly deliveries: ReadonlySet<Promise<unknown>>
}

export function createJobRuns(log: FastifyBaseLogger): JobRuns {
  const running = new Set<Promise<unknown>>()
  const deliveries = new Set<Promise<unknown>>()

  function track(promise: Promise<unknown>): void {
    running.add(promise)
    void promise.finally(() => running.delete(promise))
  }

  /** One row's failure is logged and left to its lease: it is retried when the lease runs out. */
  function guarded(job: AnyJob, deps: JobDeps, row: unknown): Promise<void> {
    const promise = job.run(deps, row).catch((error: unknown) => {
      log.error(
        { err: error, [`${job.subject}Id`]: job.idOf(row) },
        `background work on a ${job.subject} failed; it will be retried`,
      )
    })
    running.add(promise)
    return promise.finally(() => running.delete(promise))
  }

  async function runClaimed(job: AnyJob, deps: JobDeps, rows: readonly unknown[]): Promise<number> {
    await Promise.all(
      rows.map((row) => {
        const run = guarded(job, deps, row)
        if (!job.cutShortOnStop) return run
        deliveries.add(run)
        return run.finally(() => deliveries.delete(run))
      }),
    )
    return rows.length
  }

  return {
    claimAndRun: async (job, deps, claim) => runClaimed(job, deps, await job.claim(deps, claim)),
    runClaimed,
    track,
    running,
    deliveries,
  }
}
