import { describe, expect, it } from 'vitest'
import { CAPTION_STATUSES, type CaptionStatus, statusesBefore } from '../../src/captions/statuses.js'
import { parseRetryAfter } from '../../src/goapi/client.js'
import {
  goapiTaskSchema,
  goapiWebhookSchema,
  mapGoapiStatus,
  redactSecrets,
  taskErrorMessage,
} from '../../src/goapi/task.js'

describe('mapGoapiStatus', () => {
  it.each([
    ['pending', 'pending'],
    ['staged', 'pending'],
    ['Staged', 'pending'],
    ['processing', 'processing'],
    ['running', 'processing'],
    ['Processing', 'processing'],
    ['completed', 'completed'],
    [' COMPLETED ', 'completed'],
    ['failed', 'failed'],
    ['Failed', 'failed'],
    ['cancelled', 'failed'],
    ['canceled', 'failed'],
  ])('when GoAPI says %j, then the caption status is %s', (goapi, caption) => {
    expect(mapGoapiStatus(goapi)).toBe(caption)
  })

  it.each(['', 'queued-somewhere', 'retrying', 'complete'])(
    'when GoAPI says an unknown word %j, then no status is mapped',
    (goapi) => {
      expect(mapGoapiStatus(goapi)).toBeUndefined()
    },
  )
})

describe('statusesBefore', () => {
  it('when moving to a terminal status, then every non-terminal status may precede it', () => {
    expect(statusesBefore('completed')).toEqual(['queued', 'pending', 'processing'])
    expect(statusesBefore('failed')).toEqual(['queued', 'pending', 'processing'])
  })

  it('when moving to a running status, then only earlier statuses may precede it', () => {
    expect(statusesBefore('queued')).toEqual([])
    expect(statusesBefore('pending')).toEqual(['queued'])
    expect(statusesBefore('processing')).toEqual(['queued', 'pending'])
  })

  it('when any move is checked, then a terminal status never precedes anything', () => {
    for (const next of CAPTION_STATUSES) {
      const before: CaptionStatus[] = statusesBefore(next)
      expect(before).not.toContain('completed')
      expect(before).not.toContain('failed')
      expect(before).not.toContain(next)
    }
  })
})

describe('redactSecrets', () => {
  it('when a task echoes the webhook secret, then the secret is replaced and the rest kept', () => {
    const task = {
      task_id: 't-1',
      config: {
        service_mode: '',
        webhook_config: { endpoint: 'https://x.example/webhooks/goapi', secret: 's3cr3t' },
      },
      output: { text: 'a cat' },
    }
    const redacted = redactSecrets(task)
    expect(redacted).toEqual({
      task_id: 't-1',
      config: {
        service_mode: '',
        webhook_config: { endpoint: 'https://x.example/webhooks/goapi', secret: '[REDACTED]' },
      },
      output: { text: 'a cat' },
    })
    expect(task.config.webhook_config.secret).toBe('s3cr3t')
  })

  it('when secrets hide in headers and arrays, then each one is replaced', () => {
    const value = {
      headers: {
        'x-api-key': 'v-key-1',
        'X-Webhook-Secret': 'v-sec-1',
        authorization: 'Bearer v-b',
        accept: 'json',
      },
      list: [{ api_key: 'v-key-2' }, { apiKey: 'v-key-3' }, 'plain', 7, null],
      password: 'v-pw',
      access_token: 'v-tok',
    }
    const text = JSON.stringify(redactSecrets(value))
    for (const secret of ['v-key-1', 'v-sec-1', 'v-b', 'v-key-2', 'v-key-3', 'v-pw', 'v-tok']) {
      expect(text).not.toContain(secret)
    }
    expect(redactSecrets(value).list.slice(2)).toEqual(['plain', 7, null])
    expect(redactSecrets(value).headers.accept).toBe('json')
  })

  it('when a secret field is empty or null, then it is left as it is', () => {
    expect(redactSecrets({ secret: '', token: null })).toEqual({ secret: '', token: null })
  })

  it('when a payload carries a "__proto__" key, then it stays plain data', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true, "secret": "x"}, "a": 1}') as Record<
      string,
      unknown
    >
    const redacted = redactSecrets(payload)
    expect(Object.getPrototypeOf(redacted)).toBe(Object.prototype)
    expect(Object.hasOwn(redacted, '__proto__')).toBe(true)
    expect((redacted as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"polluted":true,"secret":"[REDACTED]"},"a":1}')
  })

  it('when given primitives, then they come back unchanged', () => {
    expect(redactSecrets('secret')).toBe('secret')
    expect(redactSecrets(3)).toBe(3)
    expect(redactSecrets(null)).toBeNull()
  })
})

describe('parseRetryAfter', () => {
  const now = new Date('2025-07-16T06:00:00Z')

  it('when given delta-seconds, then it answers milliseconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1000)
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000)
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter(['2', '5'], now)).toBe(2000)
  })

  it('when given an HTTP date, then it answers the time left until it', () => {
    expect(parseRetryAfter('Wed, 16 Jul 2025 06:00:10 GMT', now)).toBe(10_000)
  })

  it('when the HTTP date is past, then it answers zero', () => {
    expect(parseRetryAfter('Wed, 16 Jul 2025 05:59:00 GMT', now)).toBe(0)
  })

  it.each([undefined, '', '   ', 'soon', '-1', '1.5', 'abc 12', '5s'])(
    'when the value is %j, then there is no hint',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined()
    },
  )
})

describe('goapiTaskSchema', () => {
  it('when a task carries fields the service does not know, then it still parses and keeps them', () => {
    const parsed = goapiWebhookSchema.parse({
      timestamp: 1752646924,
      data: {
        task_id: 't-1',
        status: 'completed',
        output: { text: 'a cat', extra: 1 },
        meta: { failover_triggered: false },
        logs: null,
        something_new: { nested: true },
      },
    })
    expect(parsed.data.output?.text).toBe('a cat')
    expect(parsed.data.something_new).toEqual({ nested: true })
  })

  it('when a task has no id, then it does not parse', () => {
    expect(goapiTaskSchema.safeParse({ task_id: '', status: 'pending' }).success).toBe(false)
  })
})

describe('taskErrorMessage', () => {
  it("when the task carries GoAPI's message, then that message is used", () => {
    const task = goapiTaskSchema.parse({ task_id: 't', status: 'failed', error: { message: ' no image ' } })
    expect(taskErrorMessage(task)).toBe('no image')
  })

  it('when only raw_message is set, then raw_message is used', () => {
    const task = goapiTaskSchema.parse({
      task_id: 't',
      status: 'failed',
      error: { message: '', raw_message: 'oom' },
    })
    expect(taskErrorMessage(task)).toBe('oom')
  })

  it('when no message is given, then the fallback names the status', () => {
    const task = goapiTaskSchema.parse({ task_id: 't', status: 'Cancelled', error: null })
    expect(taskErrorMessage(task)).toBe('GoAPI reported the task as cancelled without a message')
  })
})
