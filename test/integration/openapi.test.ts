import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../helpers/service.js'

describe('GET /openapi.json', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service.close()
  })

  it('when the document is read, then it describes the captions API from the same schemas the routes use', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const document = response.json()
    expect(document.openapi).toMatch(/^3\./)
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/captions', '/captions/{id}', '/webhooks/goapi', '/healthz', '/readyz']),
    )
    const post = document.paths['/captions'].post
    const body = post.requestBody.content['application/json'].schema
    expect(body.required).toEqual(['imageUrl'])
    expect(body.properties.promptStyle.enum).toContain('Descriptive (Casual)')
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '429']))
  })
})
