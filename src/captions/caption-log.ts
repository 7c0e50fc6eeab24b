import type { FastifyBaseLogger } from 'fastify'
import { bindToRequestLog } from '../logger.js'

/**
 * The logger for lines about one caption: each carries the caption's id, GoAPI's task id once known,
 * and the caller that owns it, so `jq 'select(.captionId=="…")'` tells a caption's whole story. A field
 * the logger already carries (the caller, on a request's logger) is not bound twice.
 */
export function captionLog(
  log: FastifyBaseLogger,
  caption: { id: string; goapiTaskId?: string | null; caller?: string },
): FastifyBaseLogger {
  const bound = (log as { bindings?: () => Record<string, unknown> }).bindings?.() ?? {}
  const fields: Record<string, string> = {}
  if (bound.captionId === undefined) fields.captionId = caption.id
  if (caption.goapiTaskId && bound.goapiTaskId === undefined) fields.goapiTaskId = caption.goapiTaskId
  if (caption.caller && bound.caller === undefined) fields.caller = caption.caller
  return Object.keys(fields).length > 0 ? log.child(fields) : log
}

/**
 * Whether `log` writes lines at `level`. A line that would not be written is not worth a caption's
 * logger: a child logger serializes its fields as it is made, on every caption a busy path touches.
 */
export function writesAt(log: FastifyBaseLogger, level: 'info' | 'debug'): boolean {
  const enabled = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return enabled === undefined || enabled.call(log, level)
}

/** Names the caption (and its GoAPI task once known) on the rest of a request's lines. */
export function bindCaptionToRequest(
  log: FastifyBaseLogger,
  caption: { id: string; goapiTaskId?: string | null },
): void {
  bindToRequestLog(
    log,
    caption.goapiTaskId
      ? { captionId: caption.id, goapiTaskId: caption.goapiTaskId }
      : { captionId: caption.id },
  )
}
