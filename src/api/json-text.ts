import type { FastifyReply } from 'fastify'

/**
 * Answers with JSON already written as text (by PostgreSQL, for the hottest reads): Fastify sends a
 * string with a JSON content type as it is, without the route's serializer. The route's response schema
 * still describes it in the OpenAPI document.
 */
export function sendJsonText(reply: { type(contentType: string): FastifyReply }, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** A page (`pageOf` in schemas.ts) whose items are JSON text already written. */
export function pageJsonText(items: readonly { resource: string }[], nextCursor: string | null): string {
  return `{"items":[${items.map((item) => item.resource).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`
}
