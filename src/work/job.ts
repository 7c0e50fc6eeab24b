import type { Dispatcher } from 'undici'
import type { ServiceDeps } from '../deps.js'
import type { Claim } from './work.repository.js'

/** What a job's work is handed: the service's deps, and for callbacks, how to send and when to stop. */
export type JobDeps = ServiceDeps & {
  callbackDispatcher: Dispatcher
  /** Aborted when a stop runs out of time: callbacks still waiting for their caller are cut short. */
  signal: AbortSignal
  /** Aborted as soon as a stop begins: long housekeeping (a retention sweep) ends between two chunks. */
  stopping?: AbortSignal
}

/**
 * A kind of background work: what it leases when due (`claim`) and what it does with each row it took
 * (`run`). Adding one is a file in jobs/ and a line in jobs/index.ts.
 */
export interface Job<Row = unknown> {
  name: string
  /** Leases the rows due now (at most `claim.limit`), as this replica (`claim.owner`). */
  claim(deps: JobDeps, claim: Claim): Promise<Row[]>
  /** Works one row it leased; a failure is logged and the row retried once its lease runs out. */
  run(deps: JobDeps, row: Row): Promise<void>
  /** What a failure's log line names: the row's id, as `captionId` or `batchId`. */
  subject: 'caption' | 'batch'
  idOf(row: Row): string
  /**
   * When it runs besides the regular rounds: `wake-up`, at once whenever background work is woken (a
   * caption finished); `slots`, at once when captions wait for a GoAPI task slot that may be free.
   */
  alsoOn?: 'wake-up' | 'slots'
  /** A delivery to a caller, cut short (and counted as an attempt) when a stop runs out of time. */
  cutShortOnStop?: boolean
  /** Claimed before the other jobs of a round start. */
  claimedFirst?: boolean
  /** Runs at most this often, after a round's other jobs (housekeeping); a function reads it from the deps. */
  everyMs?: number | ((deps: JobDeps) => number)
  /**
   * Housekeeping that may run long (a backlog to work through): the round starts it and goes on without
   * waiting for it; it is not started again while it runs. A stop waits for it (see `stopping`).
   */
  beside?: boolean
}

/** A job as the list holds it, whatever its rows. */
// biome-ignore lint/suspicious/noExplicitAny: the list holds jobs of any row type; each is used whole.
export type AnyJob = Job<any>

/** Declares a job, checking its row type once. */
export const job = <Row>(definition: Job<Row>): AnyJob => definition
