/**
 * A typed caller of caption-service: requests, answers and error bodies are checked against
 * `schema.ts`, which is generated from the service's OpenAPI document (`npm run client:generate`).
 *
 * ```ts
 * const captions = captionClient({ baseUrl: 'http://caption-service.captions.svc', token })
 * const created = await captions.POST('/captions', { body: { imageUrl: 'https://example.com/cat.png' } })
 * if (created.error) throw new Error(`${created.error.code}: ${created.error.message}`)
 * const caption = await waitForCaption(captions, created.data.id)
 * ```
 */
import createClient, { type Client } from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type { components, operations, paths, webhooks } from './schema.js'
export type Caption = components['schemas']['Caption']
export type CaptionError = components['schemas']['Error']
export type CaptionClient = Client<paths>

export function captionClient(options: { baseUrl: string; token?: string }): CaptionClient {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  return createClient<paths>({ baseUrl: options.baseUrl, headers })
}

/** Reads a caption until it is completed or failed, or `timeoutMs` passes. */
export async function waitForCaption(
  client: CaptionClient,
  id: string,
  { timeoutMs = 60_000, intervalMs = 500 } = {},
): Promise<Caption> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { data, error } = await client.GET('/captions/{id}', { params: { path: { id } } })
    if (error) throw new Error(`GET /captions/${id}: ${error.code}: ${error.message}`)
    if (data.status === 'completed' || data.status === 'failed') return data
    if (Date.now() > deadline) throw new Error(`caption ${id} still ${data.status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
