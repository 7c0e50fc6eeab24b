import { Agent, type Dispatcher } from 'undici'
import { isDatabaseDown, isDatabaseNotMigrated } from '../db/database-errors.js'
import type { ServiceDeps, WakeReason } from '../deps.js'
import { addMs } from '../lib/backoff.js'
import { beforeDeadline, settledWithin } from '../lib/time-limit.js'
import type { AnyJob, JobDeps } from './job.js'
import { createJobRuns } from './job-runs.js'
import { JOBS } from './jobs/index.js'
import { createWakeLane } from './wake-lane.js'
import { type Claim, releaseAllLeases } from './work.repository.js'

const BATCH_SIZE = 20
/** The end of a stop's time, kept for recording what was cut short and giving the leases back. */
const WRAP_UP_MAX_MS = 1_000

export interface Worker {
  /** One round: take what is due, do it, give it back. Returns how many rows it handled. */
  runOnce(): Promise<number>
  start(): void
  /**
   * Stops taking work and lets what is running finish; callbacks still waiting for their caller near the
   * end of `timeoutMs` are cut short (and counted as attempts). Gives back every lease, all within
   * `timeoutMs`.
   */
  stop(timeoutMs: number): Promise<void>
}

/**
 * The background work every replica runs, one job after another of the job list (jobs/index.ts):
 * submit what is still queued, ask GoAPI about captions it has been quiet about, fail what passed its
 * deadline, give free GoAPI task slots, deliver callbacks, forget expired idempotency keys. Replicas
 * coordinate only through row leases in PostgreSQL.
 */
export function createWorker(
  serviceDeps: ServiceDeps,
  options: { callbackDispatcher?: Dispatcher; jobs?: readonly AnyJob[] } = {},
): Worker {
  const deps = { ...serviceDeps, log: serviceDeps.log.child({ component: 'worker' }) }
  const jobs = options.jobs ?? JOBS
  const callbackDispatcher =
    options.callbackDispatcher ??
    new Agent({ connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 })
  const runs = createJobRuns(deps.log)
  const state = {
    cutShort: new AbortController(),
    stopping: new AbortController(),
    timer: undefined as NodeJS.Timeout | undefined,
    round: undefined as Promise<void> | undefined,
    stopped: false,
    started: false,
    unsubscribe: () => {},
    databaseWasDown: false,
    /** Job name → when it last ran, for the jobs that run every so often. */
    lastRun: new Map<string, number>(),
    /** The `beside` jobs running now, by name. */
    beside: new Set<string>(),
  }
  const jobDeps = (): JobDeps => ({
    ...deps,
    callbackDispatcher,
    signal: state.cutShort.signal,
    stopping: state.stopping.signal,
  })
  const claimAt = (now: Date): Claim => ({
    owner: deps.workerId,
    now,
    leaseUntil: addMs(now, deps.work.leaseMs),
    limit: BATCH_SIZE,
  })

  async function runOnce(): Promise<number> {
    const now = deps.clock.now()
    const claim = claimAt(now)
    const context = jobDeps()
    const every = jobs.filter((job) => job.everyMs === undefined)
    const first = every.filter((job) => job.claimedFirst)
    const claimedFirst = await Promise.all(first.map((job) => job.claim(context, claim)))
    const handled = await Promise.all([
      ...every.filter((job) => !job.claimedFirst).map((job) => runs.claimAndRun(job, context, claim)),
      ...first.map((job, index) => runs.runClaimed(job, context, claimedFirst[index] ?? [])),
    ])
    for (const job of jobs) {
      if (job.everyMs === undefined) continue
      const everyMs = typeof job.everyMs === 'function' ? job.everyMs(context) : job.everyMs
      if (now.getTime() - (state.lastRun.get(job.name) ?? Number.NEGATIVE_INFINITY) < everyMs) continue
      if (job.beside) {
        if (!state.beside.has(job.name)) startBeside(job, context, claim)
      } else {
        handled.push(await runs.claimAndRun(job, context, claim))
      }
      state.lastRun.set(job.name, now.getTime())
    }
    return handled.reduce((sum, count) => sum + count, 0)
  }

  function startBeside(job: AnyJob, context: JobDeps, claim: Claim): void {
    state.beside.add(job.name)
    const run = runs
      .claimAndRun(job, context, claim)
      .catch((error: unknown) => {
        if (!isDatabaseDown(error) && !isDatabaseNotMigrated(error))
          deps.log.error({ err: error, job: job.name }, 'background housekeeping failed')
      })
      .finally(() => state.beside.delete(job.name))
    runs.track(run)
  }

  async function loop(): Promise<void> {
    if (state.stopped) return
    let handled = 0
    try {
      handled = await runOnce()
      if (state.databaseWasDown) deps.log.info('database reachable again; background work resumes')
      state.databaseWasDown = false
    } catch (error) {
      if (isDatabaseDown(error) || isDatabaseNotMigrated(error)) {
        if (!state.databaseWasDown) {
          deps.log.warn(
            isDatabaseDown(error)
              ? 'database unreachable; background work waits for it'
              : 'database not migrated (run npm run db:migrate); background work waits for it',
          )
        }
        state.databaseWasDown = true
      } else {
        deps.log.error({ err: error }, 'background work round failed')
      }
    }
    // A full batch means more is probably due: go again at once rather than after the interval.
    const again = handled >= BATCH_SIZE
    state.round = undefined
    if (!state.stopped) state.timer = setTimeout(startRound, again ? 0 : deps.work.intervalMs)
  }

  function startRound(): void {
    state.round = loop()
  }

  /**
   * A caption finished, so its callback is due and its GoAPI task slot is free: the jobs woken by it run
   * at once (callbacks; and task slots when captions were queued, or under a cap), again as long as more
   * wake-ups come meanwhile.
   */
  const lane = createWakeLane(
    async (slots) => {
      const claim = claimAt(deps.clock.now())
      const context = jobDeps()
      const woken = jobs.filter((job) => job.alsoOn === 'wake-up' || (slots && job.alsoOn === 'slots'))
      // The pass ends once its rows are claimed: what they run (a callback waiting for its caller) goes on
      // beside the next pass, which claims what became due meanwhile without waiting for it.
      const results = await Promise.allSettled(
        woken.map(async (job) => {
          const rows = await job.claim(context, claim)
          void runs.runClaimed(job, context, rows)
        }),
      )
      for (const result of results) {
        if (
          result.status === 'rejected' &&
          !isDatabaseDown(result.reason) &&
          !isDatabaseNotMigrated(result.reason)
        )
          deps.log.error({ err: result.reason }, 'background work after a wake-up failed')
      }
    },
    { stopped: () => state.stopped, track: runs.track },
  )

  function wake(what?: WakeReason): void {
    if (state.stopped || !state.started) return
    // Without a cap, a caption that ends frees nothing anyone waits for.
    lane.wake(what === 'queued' || deps.work.maxConcurrency > 0)
  }

  return {
    runOnce,
    start() {
      state.stopped = false
      state.started = true
      state.unsubscribe = deps.onWake(wake)
      state.cutShort = new AbortController()
      state.stopping = new AbortController()
      state.timer = setTimeout(startRound, 0)
    },
    async stop(timeoutMs) {
      const end = Date.now() + Math.max(0, timeoutMs)
      state.stopped = true
      state.stopping.abort()
      state.unsubscribe()
      clearTimeout(state.timer)
      const wrapUpMs = Math.min(WRAP_UP_MAX_MS, timeoutMs / 4)
      await settledWithin([state.round, ...runs.running], end - wrapUpMs - Date.now())
      if (runs.deliveries.size > 0) {
        deps.log.info({ callbacks: runs.deliveries.size }, 'cutting short callbacks still in flight')
        state.cutShort.abort()
        // Each records its attempt, under its lease, in one write.
        await settledWithin([...runs.deliveries], (end - Date.now()) / 2)
      }
      try {
        const released = await beforeDeadline(releaseAllLeases(deps.sql, deps.workerId), end - Date.now())
        if (released > 0) deps.log.info({ released }, 'leases given back for the other replicas')
      } catch (error) {
        deps.log.warn({ err: error }, 'could not give leases back; they will run out by themselves')
      }
      // Not close(): that would wait for requests still running.
      if (!options.callbackDispatcher) await callbackDispatcher.destroy()
    },
  }
}
