import { readFileSync } from 'node:fs'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import { TEST_WEBHOOK_SECRET } from './service.js'

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/webhook-completed.json', import.meta.url), 'utf8'),
) as { timestamp: number; data: Record<string, unknown> }

export interface DeliveryOptions {
  captionId: string
  taskId: string
  status?: string
  text?: string | null
  errorMessage?: string
  /** Defaults to the caption's own secret; tests override exactly one thing. */
  secret?: string | null
}

/** A valid GoAPI webhook delivery, built from GoAPI's documented completed webhook. */
export function goapiDelivery(options: DeliveryOptions) {
  const status = options.status ?? 'completed'
  const secret =
    options.secret === undefined ? webhookSecretFor(options.captionId, [TEST_WEBHOOK_SECRET]) : options.secret
  const data = {
    ...structuredClone(fixture.data),
    task_id: options.taskId,
    status,
    config: {
      service_mode: '',
      webhook_config: { endpoint: 'http://127.0.0.1/webhooks/goapi', secret: secret ?? '' },
    },
    output:
      status === 'completed' ? { text: options.text === undefined ? 'A cat on a mat.' : options.text } : null,
    error: {
      code: options.errorMessage ? 10000 : 0,
      raw_message: options.errorMessage ?? '',
      message: options.errorMessage ?? '',
      detail: null,
    },
  }
  return {
    method: 'POST' as const,
    url: '/webhooks/goapi',
    headers: {
      'content-type': 'application/json',
      ...(secret === null ? {} : { 'x-webhook-secret': secret }),
    },
    payload: { timestamp: fixture.timestamp, data },
  }
}
