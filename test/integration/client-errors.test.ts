import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REQUEST_ERRORS } from '../../src/api/error-catalog.js'
import { expectErrorReply, type ReplyLike } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

/**
 * Faults `inject` cannot make: bytes written straight to a socket, as a broken client, proxy or
 * attacker would send them, and the answer read back as it came off the wire.
 */

function portOf(service: TestService): number {
  return Number(new URL(service.baseUrl).port)
}

/** An HTTP answer read off the wire: its status, headers (lower-cased) and body. */
function parseAnswer(raw: string): ReplyLike & { body: string } {
  const end = raw.indexOf('\r\n\r\n')
  const [statusLine = '', ...headerLines] = raw.slice(0, end).split('\r\n')
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
    }),
  )
  const body = raw.slice(end + 4)
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body, json: () => JSON.parse(body) }
}

/** Writes `bytes` on a new connection and reads until the server closes it. */
function exchange(service: TestService, bytes: string): Promise<ReplyLike & { body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(portOf(service), '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks).toString('utf8'))))
    socket.write(bytes)
  })
}

/** Reads one answer on a kept-alive socket: headers, then Content-Length bytes of body. */
function readOne(socket: Socket): Promise<ReplyLike & { body: string }> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8')
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0)
      if (Buffer.byteLength(text.slice(end + 4)) < length) return
      socket.off('data', onData)
      resolve(parseAnswer(text))
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
}

const POST_HEAD = 'POST /captions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n'

describe('requests Node refuses before the service reads them', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service?.close()
  })

  it.each([
    ['two different Content-Lengths', `${POST_HEAD}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    [
      'Content-Length with Transfer-Encoding',
      `${POST_HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ],
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    ['a header with no colon', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n'],
    ['a bad chunk size', `${POST_HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
  ])('when a request has %s, then it is 400 invalid_request in the one error shape', async (_, bytes) => {
    const answer = await exchange(service, bytes)
    const body = expectErrorReply(answer, 400, 'invalid_request')
    expect(body.error).toBe('Bad Request')
    expect(body.message).toMatch(/^the request cannot be read: \S/)
    expect(answer.headers.connection).toBe('close')
  })

  it('when the headers are larger than the server takes, then it is 431 headers_too_large in the one error shape', async () => {
    const answer = await exchange(
      service,
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    const body = expectErrorReply(answer, 431, 'headers_too_large')
    expect(body.error).toBe('Request Header Fields Too Large')
  })

  it('when the codes these answers carry are looked up, then each is in the catalog with its status', () => {
    expect(REQUEST_ERRORS.invalid_request.status).toBe(400)
    expect(REQUEST_ERRORS.headers_too_large.status).toBe(431)
    expect(REQUEST_ERRORS.request_timeout.status).toBe(408)
    expect(REQUEST_ERRORS.shutting_down.status).toBe(503)
  })

  it('when a client goes away in the middle of its body, then it is logged below error level and without a stack', async () => {
    const from = service.logs.length
    const socket = connect(portOf(service), '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(`${POST_HEAD}Content-Length: 1000\r\n\r\n{"imageUrl":"https://images.example.com/`)
    // Gone only once the service has its head and waits for the body (a fixed pause may be too short on
    // a loaded machine, and the socket would then end before the request began).
    await eventually(async () =>
      service.logs.slice(from).some((line) => line.msg === 'incoming request') ? true : undefined,
    )
    socket.destroy()
    await eventually(async () =>
      service.logs.slice(from).some((line) => line.msg === 'client went away before its body arrived')
        ? true
        : undefined,
    )
    const lines = service.logs.slice(from)
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([])
    expect(JSON.stringify(lines)).not.toContain('"stack"')
    // And the service goes on answering.
    expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200)
  })
})

describe('a request that arrives while the service is closing', () => {
  it('when it comes on a kept-alive connection during close, then it is 503 shutting_down in the one error shape', async () => {
    const service = await startTestService()
    const socket = connect(portOf(service), '127.0.0.1')
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
      // Half of its head before the close (the connection is busy, so close leaves it open), the rest after.
      socket.write('GET /healthz HTTP/1.1\r\nHost: loc')
      await new Promise((resolve) => setTimeout(resolve, 50))
      const closing = service.app.close()
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.write('alhost\r\n\r\n')
      const answer = await readOne(socket)
      const body = expectErrorReply(answer, 503, 'shutting_down')
      expect(body.error).toBe('Service Unavailable')
      expect(answer.headers['retry-after']).toBe('5')
      expect(answer.headers.connection).toBe('close')
      await closing
    } finally {
      socket.destroy()
      await service.close().catch(() => {})
    }
  })
})
