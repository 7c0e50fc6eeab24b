import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { webhookSecretFor } from '../src/captions/webhook-secret.js'
import { completedWebhookBody } from './captions.js'
import { percentile } from './load.js'

/** Webhooks are sent one at a time, this far apart: a steady trickle, not a burst. */
const WEBHOOK_SPACING_MS = 20
const CALLBACK_WAIT_MS = 15_000
const CREATE_CONCURRENCY = 8

export interface EndToEndFigures {
  captions: number
  callbacks: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface CallbackReceiver {
  url: string
  /** Arrival time (performance.now()) of the first callback per name. */
  arrivals: Map<string, number>
  close(): Promise<void>
}

/** A caller's endpoint in the bench process: `<url>/<name>` notes when a callback for `name` arrives. */
export function startCallbackReceiver(): Promise<CallbackReceiver> {
  const arrivals = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const name = req.url?.split('/').pop() ?? ''
    if (!arrivals.has(name)) arrivals.set(name, performance.now())
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}/callbacks`,
        arrivals,
        close: () => new Promise((done) => server.close(() => done())),
      })
    })
  })
}

/**
 * `count` captions with a callbackUrl, created through the service; then, for each, GoAPI's completed
 * webhook, and the time from that webhook's 2xx to the caption's callback reaching the receiver.
 */
export async function measureCallbackDelays(options: {
  serviceUrl: string
  receiver: CallbackReceiver
  count: number
  authorization: string
  webhookSecret: string
}): Promise<EndToEndFigures> {
  const { serviceUrl, receiver } = options
  const captions: { name: string; id: string; taskId: string }[] = []
  let next = 0
  const create = async () => {
    for (let index = next++; index < options.count; index = next++) {
      const name = `e2e-${index}`
      const response = await request(`${serviceUrl}/captions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: options.authorization },
        body: JSON.stringify({
          imageUrl: `https://images.example.com/bench/e2e-${index}.png`,
          callbackUrl: `${receiver.url}/${name}`,
        }),
      })
      const body = (await response.body.json()) as { id?: string; goapiTaskId?: string }
      if (response.statusCode !== 202 || !body.id || !body.goapiTaskId) {
        throw new Error(`end to end: POST /captions answered ${response.statusCode}: ${JSON.stringify(body)}`)
      }
      captions.push({ name, id: body.id, taskId: body.goapiTaskId })
    }
  }
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, create))

  const webhookBody = await completedWebhookBody()
  const acknowledged = new Map<string, number>()
  const firstAt = performance.now()
  for (const [index, caption] of captions.entries()) {
    await sleep(Math.max(0, firstAt + index * WEBHOOK_SPACING_MS - performance.now()))
    const secret = webhookSecretFor(caption.id, [options.webhookSecret])
    const response = await request(`${serviceUrl}/webhooks/goapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
      body: webhookBody(caption.taskId, secret),
    })
    await response.body.dump()
    if (response.statusCode >= 300) throw new Error(`end to end: webhook answered ${response.statusCode}`)
    acknowledged.set(caption.name, performance.now())
  }
  const waitUntil = performance.now() + CALLBACK_WAIT_MS
  while (receiver.arrivals.size < captions.length && performance.now() < waitUntil) await sleep(50)

  const delays = captions
    .filter((caption) => receiver.arrivals.has(caption.name))
    // A callback may leave before the webhook's answer reaches the bench: that counts as no wait.
    .map((caption) =>
      Math.max(
        0,
        (receiver.arrivals.get(caption.name) as number) - (acknowledged.get(caption.name) as number),
      ),
    )
    .sort((a, b) => a - b)
  return {
    captions: captions.length,
    callbacks: delays.length,
    p50Ms: percentile(delays, 0.5),
    p99Ms: percentile(delays, 0.99),
    maxMs: delays.at(-1) ?? Number.NaN,
  }
}
