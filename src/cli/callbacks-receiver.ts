import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

/**
 * A caller's endpoint for this service's callbacks, the counterpart of the GoAPI simulator on the other
 * side: it verifies each delivery's Standard Webhooks signature with the `standardwebhooks` library,
 * records and reports it, and answers as told (500 a number of times per event, or 410 Gone), for demos
 * and tests. `npm run callbacks:receive` runs it (see callbacks-receive.ts).
 */
export interface CallbacksReceiverOptions {
  /** `whsec_…` secrets; each is tried on its own, as a receiver holding only that key would. */
  secrets: readonly string[]
  host?: string
  /** 0: any free port. */
  port?: number
  /** Answer 500 to the first this-many deliveries of each event (by `webhook-id`), then 200. */
  failTimes?: number
  /** Answer 410 Gone to every verified delivery. */
  gone?: boolean
  onDelivery?: (delivery: ReceivedDelivery) => void
}

export interface ReceivedDelivery {
  at: Date
  path: string
  headers: http.IncomingHttpHeaders
  /** The raw body, as signed. */
  body: string
  /** The event, when the signature verified under at least one key. */
  event: unknown
  /** Index (in `secrets`) of every key the delivery verifies under on its own. */
  verifiedBy: number[]
  /** Why it did not verify under the first key, when it did not. */
  verifyError: string | undefined
  /** What the receiver answered. */
  statusCode: number
}

export interface CallbacksReceiver {
  url: string
  deliveries(): ReceivedDelivery[]
  close(): Promise<void>
}

const MAX_BODY_BYTES = 1024 * 1024

export async function startCallbacksReceiver(options: CallbacksReceiverOptions): Promise<CallbacksReceiver> {
  const keys = options.secrets.map((secret) => new Webhook(secret))
  const deliveries: ReceivedDelivery[] = []
  const failuresSent = new Map<string, number>()

  function answer(delivery: Omit<ReceivedDelivery, 'statusCode'>): number {
    if (delivery.verifiedBy.length === 0) return 401
    if (options.gone) return 410
    const id = String(delivery.headers['webhook-id'])
    const failed = failuresSent.get(id) ?? 0
    if (failed < (options.failTimes ?? 0)) {
      failuresSent.set(id, failed + 1)
      return 500
    }
    return 200
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = request.headers as Record<string, string>
      const verifiedBy: number[] = []
      let event: unknown
      let verifyError: string | undefined
      for (const [index, key] of keys.entries()) {
        try {
          event = key.verify(body, headers)
          verifiedBy.push(index)
        } catch (error) {
          if (index === 0) verifyError = (error as Error).message
        }
      }
      const received = {
        at: new Date(),
        path: request.url ?? '/',
        headers: request.headers,
        body,
        event,
        verifiedBy,
        verifyError,
      }
      const statusCode = request.method === 'POST' ? answer(received) : 405
      const delivery = { ...received, statusCode }
      deliveries.push(delivery)
      options.onDelivery?.(delivery)
      response.writeHead(statusCode, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ ok: statusCode < 300 }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve)
  })
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    deliveries: () => [...deliveries],
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
