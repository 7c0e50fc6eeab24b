import { Agent, type Dispatcher } from 'undici'
import { deleteExpiredKeys } from '../api/idempotency.repository.js'
import { deliverBatchCallback } from '../batches/batch-callbacks.js'
import { type CallbackDeps, deliverCaptionCallback } from '../captions/callbacks.js'
import { takeNextStep } from '../captions/next-step.js'
import { takeFreeSlots } from '../captions/slots.repository.js'
import { sendWithSlot } from '../captions/submit.js'
import { isDatabaseDown, isDatabaseNotMigrated } from '../db/database-errors.js'
import type { ServiceDeps, WakeReason } from '../deps.js'
import { addMs } from '../lib/backoff.js'
import { beforeDeadline, settledWithin } from '../lib/time-limit.js'
import {
  type Claim,
  claimDueBatchCallbacks,
  claimDueCallbacks,
  claimDueCaptions,
  releaseAllLeases,
} from './work.repository.js'

const BATCH_SIZE = 20
/** Expired idempotency keys are only kept from being replayed; deleting them once a minute is plenty. */
const KEY_CLEANUP_INTERVAL_MS = 60_000
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
 * The background work every replica runs: submit what is still queued, ask GoAPI about captions it has
 * been quiet about, fail what passed its deadline, deliver callbacks, forget expired idempotency keys.
 * Replicas coordinate only through row leases in PostgreSQL.
 */
export function createWorker(
  serviceDeps: ServiceDeps,
  options: { callbackDispatcher?: Dispatcher } = {},
): Worker {
  const deps = { ...serviceDeps, log: serviceDeps.log.child({ component: 'worker' }) }
  const callbackDispatcher =
    options.callbackDispatcher ??
    new Agent({ connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 })
  let cutShort = new AbortController()
  const running = new Set<Promise<unknown>>()
  const callbacksRunning = new Set<Promise<unknown>>()
  let timer: NodeJS.Timeout | undefined
  let round: Promise<void> | undefined
  let stopped = false
  let started = false
  let callbackLane: Promise<void> | undefined
  let wokenDuringLane = false
  let slotsWanted = false
  let unsubscribe: () => void = () => {}
  let databaseWasDown = false
  let lastKeyCleanup = Number.NEGATIVE_INFINITY

  async function runOnce(): Promise<number> {
    const now = deps.clock.now()
    const claim = { owner: deps.workerId, now, leaseUntil: addMs(now, deps.work.leaseMs), limit: BATCH_SIZE }
    const captions = await claimDueCaptions(deps.sql, claim)
    const [callbacks, sent] = await Promise.all([
      deliverDueCallbacks(claim),
      sendWithFreeSlots(claim),
      ...captions.map((id) => guarded(id, () => takeNextStep(deps, id))),
    ])
    if (now.getTime() - lastKeyCleanup >= KEY_CLEANUP_INTERVAL_MS) {
      await deleteExpiredKeys(deps.sql, now)
      lastKeyCleanup = now.getTime()
    }
    return captions.length + (callbacks ?? 0) + (sent ?? 0)
  }

  /** Gives free GoAPI task slots to queued captions and sends them; resolves with how many, once sent. */
  async function sendWithFreeSlots(claim: Claim): Promise<number> {
    const captions = await takeFreeSlots(deps.sql, {
      ...claim,
      deadlineAt: addMs(claim.now, deps.work.deadlineMs),
      maxConcurrency: deps.work.maxConcurrency,
    })
    await Promise.all(captions.map((caption) => guarded(caption.id, () => sendWithSlot(deps, caption))))
    return captions.length
  }

  /**
   * Takes the callbacks that are due, captions' and completed batches', and delivers them; resolves
   * with how many it took, once sent. Captions' leave as soon as they are taken, whatever batches' do.
   */
  async function deliverDueCallbacks(claim: Claim): Promise<number> {
    const callbackDeps: CallbackDeps = { ...deps, callbackDispatcher, signal: cutShort.signal }
    const [captions, batches] = await Promise.all([
      deliverEach(claimDueCallbacks(deps.sql, claim), (caption) =>
        guarded(caption.id, () => deliverCaptionCallback(callbackDeps, caption.id, caption)),
      ),
      deliverEach(claimDueBatchCallbacks(deps.sql, claim), (batch) =>
        guarded(batch.id, () => deliverBatchCallback(callbackDeps, batch.id, batch), 'batch'),
      ),
    ])
    return captions + batches
  }

  /** Delivers each claimed row, each known as in flight until it ends (a stop cuts short those left). */
  async function deliverEach<Row>(claimed: Promise<Row[]>, deliver: (row: Row) => Promise<void>) {
    const rows = await claimed
    await Promise.all(
      rows.map((row) => {
        const delivery = deliver(row)
        callbacksRunning.add(delivery)
        return delivery.finally(() => callbacksRunning.delete(delivery))
      }),
    )
    return rows.length
  }

  /** One row's failure is logged and left to its lease: it is retried when the lease runs out. */
  function guarded(
    id: string,
    work: () => Promise<void>,
    subject: 'caption' | 'batch' = 'caption',
  ): Promise<void> {
    const promise = work().catch((error: unknown) => {
      deps.log.error(
        { err: error, [`${subject}Id`]: id },
        `background work on a ${subject} failed; it will be retried`,
      )
    })
    running.add(promise)
    return promise.finally(() => running.delete(promise))
  }

  async function loop(): Promise<void> {
    if (stopped) return
    let handled = 0
    try {
      handled = await runOnce()
      if (databaseWasDown) deps.log.info('database reachable again; background work resumes')
      databaseWasDown = false
    } catch (error) {
      if (isDatabaseDown(error) || isDatabaseNotMigrated(error)) {
        if (!databaseWasDown) {
          deps.log.warn(
            isDatabaseDown(error)
              ? 'database unreachable; background work waits for it'
              : 'database not migrated (run npm run db:migrate); background work waits for it',
          )
        }
        databaseWasDown = true
      } else {
        deps.log.error({ err: error }, 'background work round failed')
      }
    }
    // A full batch means more is probably due: go again at once rather than after the interval.
    const again = handled >= BATCH_SIZE
    round = undefined
    if (!stopped) timer = setTimeout(startRound, again ? 0 : deps.work.intervalMs)
  }

  function startRound(): void {
    round = loop()
  }

  /**
   * A caption just finished, so its callback is due and its GoAPI task slot is free: callbacks are sent
   * and waiting captions given slots at once, beside the regular rounds rather than after them, again
   * as long as more wake-ups come meanwhile.
   */
  function wake(what?: WakeReason): void {
    if (stopped || !started) return
    // Without a cap, a caption that ends frees nothing anyone waits for.
    if (what === 'queued' || deps.work.maxConcurrency > 0) slotsWanted = true
    if (callbackLane !== undefined) {
      wokenDuringLane = true
      return
    }
    const lane = (async () => {
      do {
        wokenDuringLane = false
        const now = deps.clock.now()
        const claim = {
          owner: deps.workerId,
          now,
          leaseUntil: addMs(now, deps.work.leaseMs),
          limit: BATCH_SIZE,
        }
        // A caption finished: its callback is due, and (under a cap) its GoAPI task slot is free for the
        // next; or captions were queued for a slot.
        const slots = slotsWanted
        slotsWanted = false
        const results = await Promise.allSettled([
          deliverDueCallbacks(claim),
          ...(slots ? [sendWithFreeSlots(claim)] : []),
        ])
        for (const result of results) {
          if (
            result.status === 'rejected' &&
            !isDatabaseDown(result.reason) &&
            !isDatabaseNotMigrated(result.reason)
          )
            deps.log.error({ err: result.reason }, 'background work after a wake-up failed')
        }
      } while (wokenDuringLane && !stopped)
    })()
    callbackLane = lane
    running.add(lane)
    void lane.finally(() => {
      running.delete(lane)
      callbackLane = undefined
    })
  }

  return {
    runOnce,
    start() {
      stopped = false
      started = true
      unsubscribe = deps.onWake(wake)
      cutShort = new AbortController()
      timer = setTimeout(startRound, 0)
    },
    async stop(timeoutMs) {
      const end = Date.now() + Math.max(0, timeoutMs)
      stopped = true
      unsubscribe()
      clearTimeout(timer)
      const wrapUpMs = Math.min(WRAP_UP_MAX_MS, timeoutMs / 4)
      await settledWithin([round, ...running], end - wrapUpMs - Date.now())
      if (callbacksRunning.size > 0) {
        deps.log.info({ callbacks: callbacksRunning.size }, 'cutting short callbacks still in flight')
        cutShort.abort()
        // Each records its attempt, under its lease, in one write.
        await settledWithin([...callbacksRunning], (end - Date.now()) / 2)
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
