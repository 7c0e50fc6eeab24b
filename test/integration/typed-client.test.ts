import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captionClient, waitForCaption } from '../../clients/typescript/client.js'
import { SCHEMA_FILE, typesOf } from '../../clients/typescript/generate.js'
import { authEnv, CALLERS, uniqueImageUrl } from '../helpers/callers.js'
import { startTestService, type TestService } from '../helpers/service.js'

describe('the typed TypeScript client', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ env: authEnv(['alice']) })
  })
  afterAll(async () => {
    await service?.close()
  })

  // Over HTTP first: generating the types below blocks this process's event loop for seconds, and the
  // service (in the same process) then sheds its next requests as overloaded for a moment.
  it('when a caller uses the client over HTTP, then it creates and reads a caption and gets errors in the one shape', async () => {
    const captions = captionClient({ baseUrl: service.baseUrl, token: CALLERS.alice })
    const created = await captions.POST('/captions', {
      body: { imageUrl: uniqueImageUrl('typed-client'), metadata: { order: 7 } },
      params: { header: { 'idempotency-key': 'typed-client-1' } },
    })
    expect(created.response.status).toBe(202)
    const id = created.data?.id as string
    const finished = await waitForCaption(captions, id, { timeoutMs: 10_000, intervalMs: 50 })
    expect(finished).toMatchObject({ id, status: 'completed', metadata: { order: 7 } })
    const page = await captions.GET('/captions', { params: { query: { limit: 1 } } })
    expect(page.data?.items.map((item) => item.id)).toEqual([id])

    // A re-send takes no body: the client sends none (this caption has no callbackUrl, so 400 says so).
    const resend = await captions.POST('/captions/{id}/deliveries/retry', { params: { path: { id } } })
    expect(resend.response.status).toBe(400)
    expect(resend.error?.code).toBe('no_callback_url')

    const stranger = captionClient({ baseUrl: service.baseUrl })
    const refused = await stranger.GET('/captions/{id}', { params: { path: { id } } })
    expect(refused.response.status).toBe(401)
    expect(refused.error?.code).toBe('unauthorized')
  })

  it('when the committed types are compared with what the served document generates, then they are the same (else run npm run client:generate)', async () => {
    const document = (await service.app.inject({ url: '/openapi.json' })).json()
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await typesOf(document))
  })
})
