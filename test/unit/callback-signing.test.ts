import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { createCallbackSigner } from '../../src/callbacks/signing.js'

const keyBytes = (fill: string) => Buffer.from(fill.repeat(32))
const secretOf = (bytes: Buffer) => `whsec_${bytes.toString('base64')}`
const ONE = keyBytes('1')
const TWO = keyBytes('2')
function signWith(keys: Buffer[], eventId: string, at = new Date()) {
  const signer = createCallbackSigner(keys.map(secretOf))
  if (!signer) throw new Error('no signer')
  return signer(eventId, at, body)
}
const body = JSON.stringify({
  type: 'caption.completed',
  timestamp: '2026-03-01T12:00:00.000Z',
  data: { id: 'x' },
})

describe('createCallbackSigner', () => {
  it('when it signs, then the headers follow Standard Webhooks: id, unix seconds, v1 HMAC-SHA256 of id.timestamp.body', () => {
    const at = new Date()
    const headers = signWith([ONE], 'evt-1', at)
    const seconds = Math.floor(at.getTime() / 1000)
    const hmac = createHmac('sha256', ONE).update(`evt-1.${seconds}.${body}`).digest('base64')
    expect(headers).toEqual({
      'webhook-id': 'evt-1',
      'webhook-timestamp': String(seconds),
      'webhook-signature': `v1,${hmac}`,
    })
    expect(new Webhook(secretOf(ONE)).verify(body, { ...headers })).toEqual(JSON.parse(body))
  })

  it('when two keys are configured, then there is one signature per key and either key alone verifies', () => {
    const headers = signWith([ONE, TWO], 'evt-2')
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2)
    for (const key of [ONE, TWO])
      expect(new Webhook(secretOf(key)).verify(body, { ...headers })).toBeDefined()
    expect(() => new Webhook(secretOf(keyBytes('3'))).verify(body, { ...headers })).toThrow()
  })

  it('when the body is changed by one character, then it no longer verifies', () => {
    const headers = signWith([ONE], 'evt-3')
    expect(() => new Webhook(secretOf(ONE)).verify(body.replace('x', 'y'), { ...headers })).toThrow()
  })

  it('when no key is configured, then there is no signer, so nothing can leave unsigned', () => {
    expect(createCallbackSigner([])).toBeUndefined()
  })
})
