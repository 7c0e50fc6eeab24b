import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { errorBody } from './error-handler.js'

/**
 * Requests Node's HTTP parser refuses before Fastify sees a request (two different Content-Lengths,
 * Content-Length with Transfer-Encoding, a malformed request line, headers too large, a request that
 * never arrives in full): answered in the one error shape, with a catalogued code, and the connection
 * closed, as Node itself would. A client that went away gets nothing and is logged at debug: it is the
 * client's doing, not the service's.
 */
export function clientErrorHandler(log: FastifyBaseLogger) {
  return (error: Error & { code?: string; reason?: string }, socket: Socket): void => {
    // A connection closed in the middle of a request (HPE_INVALID_EOF_STATE) has nobody to answer either.
    if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) {
      log.debug({ code: error.code }, 'client went away')
      socket.destroy()
      return
    }
    const body =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errorBody(408, 'request_timeout', 'the request did not arrive in full in time')
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? errorBody(431, 'headers_too_large', "the request's headers are larger than the server takes")
          : errorBody(400, 'invalid_request', `the request cannot be read: ${error.reason ?? error.message}`)
    log.info({ code: body.code, parserCode: error.code, message: body.message }, 'request refused unread')
    if (socket.writable) {
      const text = JSON.stringify(body)
      socket.write(
        `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      )
    }
    socket.destroy()
  }
}
