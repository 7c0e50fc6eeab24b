import type { LoggerOptions } from 'pino'
import type { LogLevel } from './config.js'

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
  }
}
