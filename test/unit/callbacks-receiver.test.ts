import { describe, expect, it } from 'vitest'
import { createCallbackSigner } from '../../src/callbacks/signing.js'
import { startCallbacksReceiver } from '../../src/cli/callbacks-receiver.js'
import { TEST_CALLBACK_SECRETS } from '../helpers/service.js'

const body = JSON.stringify({
  type: 'caption.failed',
  timestamp: new Date().toISOString(),
  data: { id: 'c' },
})

async function deliver(url: string, secrets: readonly string[], eventId = 'evt-1', payload = body) {
  const headers = createCallbackSigner(secrets)?.(eventId, new Date(), body) ?? {}
  const response = await fetch(`${url}/done`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  })
  return response.status
}

describe('the callbacks receiver (npm run callbacks:receive)', () => {
  it('when told --gone, then it answers 410 to verified deliveries and 401 to one that does not verify', async () => {
    const receiver = await startCallbacksReceiver({ secrets: [TEST_CALLBACK_SECRETS[0]], gone: true })
    try {
      expect(await deliver(receiver.url, [TEST_CALLBACK_SECRETS[0]])).toBe(410)
      expect(await deliver(receiver.url, [TEST_CALLBACK_SECRETS[1]])).toBe(401)
      expect(await deliver(receiver.url, [TEST_CALLBACK_SECRETS[0]], 'evt-1', body.replace('c', 'd'))).toBe(
        401,
      )
      const [first, second] = receiver.deliveries()
      expect(first).toMatchObject({ statusCode: 410, verifiedBy: [0], event: JSON.parse(body) })
      expect(second).toMatchObject({ statusCode: 401, verifiedBy: [], event: undefined })
      expect(second?.verifyError).toMatch(/signature/i)
    } finally {
      await receiver.close()
    }
  })

  it('when told to fail N times, then each event gets N answers of 500 before a 200, and every key it holds is tried alone', async () => {
    const receiver = await startCallbacksReceiver({ secrets: TEST_CALLBACK_SECRETS, failTimes: 2 })
    try {
      const statuses = []
      for (const eventId of ['evt-a', 'evt-a', 'evt-b', 'evt-a', 'evt-b', 'evt-b']) {
        statuses.push(await deliver(receiver.url, TEST_CALLBACK_SECRETS, eventId))
      }
      expect(statuses).toEqual([500, 500, 500, 200, 500, 200])
      expect(receiver.deliveries().every((delivery) => delivery.verifiedBy.join() === '0,1')).toBe(true)
    } finally {
      await receiver.close()
    }
  })
})
