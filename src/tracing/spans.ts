import {
  context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { tracingActive } from './switch.js'
import { type Sql, storedTraceParent } from './trace-parents.js'

/**
 * A caption's trace across replicas and hours: the W3C `traceparent` kept with the caption is the
 * parent of every span about it (its GoAPI create call, the webhooks and polls that move it, its
 * callback delivery), whichever replica does that work and whatever request or loop it runs in.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const INVALID_TRACE = '0'.repeat(32)
const INVALID_SPAN = '0'.repeat(16)

const tracer = () => trace.getTracer('caption-service')

/** A traceparent header's span context, when it is a valid one. */
export function parseTraceParent(value: string | null | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null
  if (!match) return undefined
  const [, traceId = '', spanId = '', flags = '00'] = match
  if (traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true }
}

export function formatTraceParent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags.toString(16).padStart(2, '0')}`
}

/**
 * What a new caption keeps: the span the create request runs in (a child of the caller's `traceparent`
 * when it sent one, or the start of the trace), else, with tracing off, the caller's header as it came.
 */
export function traceParentToKeep(incoming: unknown): string | null {
  const active = trace.getActiveSpan()?.spanContext()
  if (active && isSpanContextValid(active)) return formatTraceParent(active)
  const parsed = typeof incoming === 'string' ? parseTraceParent(incoming) : undefined
  return parsed ? formatTraceParent(parsed) : null
}

/**
 * `work` inside a span whose parent is the stored `traceParent` (a new trace without one). The span the
 * work was called from (a webhook's request, a background loop), when in another trace, is linked.
 * With tracing off, just `work`.
 */
export function withStoredTrace<T>(
  name: string,
  traceParent: string | null | undefined,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingActive()) return work()
  const stored = parseTraceParent(traceParent)
  const current = trace.getActiveSpan()?.spanContext()
  const links: Link[] =
    current && isSpanContextValid(current) && current.traceId !== stored?.traceId
      ? [{ context: current }]
      : []
  const parent = stored ? trace.setSpanContext(ROOT_CONTEXT, stored) : ROOT_CONTEXT
  return tracer().startActiveSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes, links, root: stored === undefined },
    parent,
    async (span) => {
      try {
        return await work()
      } catch (error) {
        span.recordException(error as Error)
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
        throw error
      } finally {
        span.end()
      }
    },
  )
}

/**
 * withStoredTrace for work that knows only the caption's id (a webhook, a poll): its traceparent is
 * read first (with those of other captions asked for meanwhile), and only when tracing is on, so that
 * the path costs nothing more when it is off.
 */
export async function withCaptionTrace<T>(
  sql: Sql,
  captionId: string,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingActive()) return work()
  const traceParent = await storedTraceParent(sql, captionId)
  return withStoredTrace(name, traceParent, { 'caption.id': captionId }, work)
}

/** pino's mixin: the ids of the span a line is written in. */
export function traceLogFields(): { traceId?: string; spanId?: string } {
  const spanContext = trace.getSpan(context.active())?.spanContext()
  if (!spanContext || !isSpanContextValid(spanContext)) return {}
  return { traceId: spanContext.traceId, spanId: spanContext.spanId }
}
