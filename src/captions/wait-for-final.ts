import type { ServiceDeps } from '../deps.js'
import { findCallerCaption, watchCallerCaption } from './caption-rows.repository.js'
import type { CaptionResource } from './captions.schemas.js'
import { toCaptionResource } from './captions.service.js'
import { isTerminal } from './statuses.js'

/**
 * `Prefer: wait` on POST /captions: the caption as soon as it is final, or as it stands once `ms` have
 * passed (or the replica stops); undefined when `signal` aborts (the caller hung up). The replica that
 * finishes the caption may be another: the database's notice (`deps.finishedCaptions`) says when to read
 * it again, so the wait holds no connection and sends no query until then.
 */
export async function waitForFinalCaption(
  deps: Pick<ServiceDeps, 'sql' | 'finishedCaptions'>,
  wait: { caption: CaptionResource; caller: string; ms: number; signal: AbortSignal },
): Promise<CaptionResource | undefined> {
  const { caption, caller, signal } = wait
  if (isTerminal(caption.status) || wait.ms <= 0) return caption
  if (signal.aborted) return undefined

  let wake: (() => void) | undefined
  let lookAgain = true
  let over = false
  const nudge = (last: boolean) => {
    lookAgain = true
    over ||= last
    wake?.()
  }
  const unsubscribe = deps.finishedCaptions.subscribe(caption.id, (reason) => nudge(reason === 'closed'))
  const timer = setTimeout(() => nudge(true), wait.ms)
  const onAbort = () => nudge(true)
  signal.addEventListener('abort', onAbort)
  let latest = caption
  // The first read marks the caption, so that its end is announced: only awaited captions notify.
  let read = watchCallerCaption
  try {
    for (;;) {
      if (signal.aborted) return undefined
      if (lookAgain) {
        lookAgain = false
        // Subscribed first, read after: a caption that finishes in between is read final here.
        const row = await read(deps.sql, caption.id, caller)
        read = findCallerCaption
        // Erased meanwhile: what the caller was first answered stands.
        if (row) latest = toCaptionResource(row)
        if (isTerminal(latest.status) || signal.aborted) return signal.aborted ? undefined : latest
      }
      if (over) return latest
      await new Promise<void>((resolve) => {
        wake = resolve
        if (lookAgain || over) resolve()
      })
      wake = undefined
    }
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    unsubscribe()
  }
}
