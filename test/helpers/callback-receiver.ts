import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedCallback {
  /** The last path segment of the URL it was sent to: one name per caption under test. */
  name: string
  method: string
  headers: Record<string, string | string[] | undefined>
  /** The body as sent (and signed). */
  raw: string
  /** The body, parsed. */
  body: unknown
  /** When it arrived, by the wall clock. */
  at: number
}

export interface CallbackReceiver {
  /** `http://127.0.0.1:<port>/hooks/<name>`: give each caption a name of its own. */
  urlFor(name: string): string
  /** What arrived for `name` (every name when omitted), in order. */
  received(name?: string): ReceivedCallback[]
  /** The status `name` answers with from now on (200 until set). */
  answer(name: string, statusCode: number): void
  close(): Promise<void>
}

/** A caller's endpoint on the loopback interface that records every callback it gets, byte for byte. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const calls: ReceivedCallback[] = []
  const statuses = new Map<string, number>()

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const name = decodeURIComponent((request.url ?? '').split('/').at(-1) ?? '')
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try {
        body = JSON.parse(raw)
      } catch {
        body = raw
      }
      calls.push({
        name,
        method: request.method ?? '',
        headers: { ...request.headers },
        raw,
        body,
        at: Date.now(),
      })
      const statusCode = statuses.get(name) ?? 200
      response.writeHead(statusCode, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ ok: statusCode < 300 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    urlFor: (name) => `http://127.0.0.1:${port}/hooks/${encodeURIComponent(name)}`,
    received: (name) => calls.filter((call) => name === undefined || call.name === name),
    answer: (name, statusCode) => {
      statuses.set(name, statusCode)
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface HeldCallback {
  captionId: string
  headers: http.IncomingHttpHeaders
  raw: string
  at: number
}

/** A caller's endpoint that holds every request unanswered until told to answer 200 from then on. */
export async function startSilentReceiver() {
  const received: HeldCallback[] = []
  let answering = false
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const captionId = String(request.headers['x-caption-id'])
      const raw = Buffer.concat(chunks).toString('utf8')
      received.push({ captionId, headers: request.headers, raw, at: Date.now() })
      if (answering) response.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/caption-done`,
    received,
    answerFromNowOn() {
      answering = true
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
