import type { FastifyBaseLogger } from 'fastify'
import type { LoggerOptions } from 'pino'
import type { LogLevel } from './config.js'
import { traceLogFields } from './tracing/spans.js'
import { tracingActive } from './tracing/switch.js'

/**
 * Headers and fields that carry credentials, censored wherever they would be logged. GoAPI payloads are
 * redacted before they reach a log line (`redactSecrets`), since pino's paths are one level deep.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-webhook-secret"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-webhook-secret"]',
  'secret',
  '*.secret',
  '*.*.secret',
  'apiKey',
  '*.apiKey',
  'webhookSecret',
  '*.webhookSecret',
]

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    base: { service: 'caption-service' },
    // Lines written inside a span name it; with tracing off, no per-line cost.
    ...(tracingActive() ? { mixin: traceLogFields } : {}),
  }
}

/**
 * Adds fields to every later line of a request's logger. Fastify gives each request a logger of its
 * own, shared by `request.log` and `reply.log`, so binding in place costs less than a child logger
 * (which pino builds with its redaction and serializers) and reaches Fastify's own lines too.
 */
export function bindToRequestLog(log: FastifyBaseLogger, fields: Record<string, string>): void {
  ;(log as FastifyBaseLogger & { setBindings(fields: Record<string, string>): void }).setBindings(fields)
}
