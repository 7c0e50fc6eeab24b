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
      expect.arrayContaining([
        '/captions',
        '/captions/{id}',
        '/captions/{id}/deliveries',
        '/captions/{id}/deliveries/retry',
        '/webhooks/goapi',
        '/healthz',
        '/readyz',
      ]),
    )
    const post = document.paths['/captions'].post
    const body = post.requestBody.content['application/json'].schema
    expect(body.required).toEqual(['imageUrl'])
    expect(body.properties.promptStyle.enum).toContain('Descriptive (Casual)')
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '429']))
  })

  it('when the document is read, then it describes the callback fields and the delivery log', async () => {
    const document = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const caption = document.components.schemas.Caption
    expect(caption.required).toEqual(expect.arrayContaining(['callbackUrl', 'callback']))
    expect(caption.properties.callback.properties.state.enum).toEqual([
      'none',
      'pending',
      'delivered',
      'failed',
      'gone',
    ])
    const list = document.paths['/captions/{id}/deliveries'].get.responses['200'].content['application/json']
    expect(JSON.stringify(list.schema)).toContain('Delivery')
    const delivery = document.components.schemas.Delivery
    expect(Object.keys(delivery.properties).sort()).toEqual(
      [
        'attempt',
        'attemptedAt',
        'durationMs',
        'error',
        'eventId',
        'eventType',
        'id',
        'outcome',
        'statusCode',
        'url',
      ].sort(),
    )
    const event = document.components.schemas.CallbackEvent
    expect(event.properties.type.enum).toEqual(['caption.completed', 'caption.failed'])
    const webhook = document.webhooks.captionFinished.post
    expect(webhook.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ])
    expect(webhook.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CallbackEvent',
    })
    const retry = document.paths['/captions/{id}/deliveries/retry'].post
    expect(Object.keys(retry.responses)).toEqual(expect.arrayContaining(['202', '400', '404', '409']))
  })
})
