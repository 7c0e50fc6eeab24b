import { context, ROOT_CONTEXT } from '@opentelemetry/api'
import { tracingActive } from './switch.js'

/**
 * `work` outside any span, so that the instrumentations (which make spans only under a parent) make
 * none for it: for statements that tell a trace reader nothing (a transaction's BEGIN and COMMIT, the
 * lookup of a caption's own traceparent). With tracing off, just `work`.
 */
export function untraced<T>(work: () => T): T {
  return tracingActive() ? context.with(ROOT_CONTEXT, work) : work()
}
