import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'

export interface ReceivedCallback {
  /** The last path segment of the URL it was sent to: one name per caption under test. */
  name: string
  method: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
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

/** A caller's endpoint on the loopback interface that records every callback it gets. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const calls: ReceivedCallback[] = []
  const statuses = new Map<string, number>()

  app.post<{ Params: { name: string } }>('/hooks/:name', async (request, reply) => {
    const { name } = request.params
    calls.push({ name, method: request.method, headers: { ...request.headers }, body: request.body })
    const statusCode = statuses.get(name) ?? 200
    return reply.code(statusCode).send({ ok: statusCode < 300 })
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return {
    urlFor: (name) => `http://127.0.0.1:${port}/hooks/${encodeURIComponent(name)}`,
    received: (name) => calls.filter((call) => name === undefined || call.name === name),
    answer: (name, statusCode) => {
      statuses.set(name, statusCode)
    },
    close: () => app.close(),
  }
}
