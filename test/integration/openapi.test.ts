import { readFileSync } from 'node:fs'
import { compileErrors, dereference, validate } from '@readme/openapi-parser'
import type { OpenAPIV3_1 } from 'openapi-types'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REQUEST_ERRORS } from '../../src/api/error-catalog.js'
import { authEnv, bearer, uniqueImageUrl } from '../helpers/callers.js'
import { servedRoutes } from '../helpers/routes.js'
import { startTestService, type TestService } from '../helpers/service.js'

type Document = OpenAPIV3_1.Document
type Operation = OpenAPIV3_1.OperationObject

/** Served but not part of the API the document describes. */
const UNDOCUMENTED = [/^\/docs(\/|$)/, /^\/openapi\.json$/, /^\/metrics$/]

/** Every status each operation answers with; routes added later fail the "every route" test until listed. */
const EXPECTED_STATUSES: Record<string, string[]> = {
  'get /healthz': ['200'],
  'get /readyz': ['200', '503'],
  'post /captions': [
    '200',
    '202',
    '400',
    '401',
    '402',
    '409',
    '413',
    '415',
    '421',
    '422',
    '429',
    '500',
    '503',
  ],
  'get /captions': ['200', '400', '401', '421', '429', '500', '503'],
  'get /captions/{id}': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'delete /captions/{id}': ['204', '400', '401', '404', '421', '429', '500', '503'],
  'post /batches': [
    '200',
    '202',
    '400',
    '401',
    '402',
    '409',
    '413',
    '415',
    '421',
    '422',
    '429',
    '500',
    '503',
  ],
  'get /batches': ['200', '400', '401', '421', '429', '500', '503'],
  'get /batches/{id}': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'delete /batches/{id}': ['204', '400', '401', '404', '421', '429', '500', '503'],
  'post /captions/{id}/cancel': ['200', '400', '401', '404', '409', '413', '415', '421', '429', '500', '503'],
  'post /batches/{id}/cancel': ['200', '400', '401', '404', '413', '415', '421', '429', '500', '503'],
  'get /batches/{id}/captions': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'get /batches/{id}/export': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'post /webhooks/goapi': ['200', '400', '401', '413', '415', '500', '503'],
  'get /captions/{id}/deliveries': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'post /captions/{id}/deliveries/retry': [
    '202',
    '400',
    '401',
    '404',
    '409',
    '413',
    '415',
    '421',
    '429',
    '500',
    '503',
  ],
  'post /captions/{id}/retry': [
    '202',
    '400',
    '401',
    '402',
    '404',
    '409',
    '413',
    '415',
    '421',
    '429',
    '500',
    '503',
  ],
  'post /batches/{id}/retry': ['202', '400', '401', '402', '404', '413', '415', '421', '429', '500', '503'],
  'get /usage': ['200', '400', '401', '421', '429', '500', '503'],
  'get /batches/{id}/deliveries': ['200', '400', '401', '404', '421', '429', '500', '503'],
  'post /batches/{id}/deliveries/retry': [
    '202',
    '400',
    '401',
    '404',
    '409',
    '413',
    '415',
    '421',
    '429',
    '500',
    '503',
  ],
}

/**
 * Each operation's operationId: part of the contract (clients generated from the document name their
 * methods after them), so a rename fails here. A route added later needs one.
 */
const EXPECTED_OPERATION_IDS: Record<string, string> = {
  'get /healthz': 'checkLiveness',
  'get /readyz': 'checkReadiness',
  'post /captions': 'createCaption',
  'get /captions': 'listCaptions',
  'get /captions/{id}': 'getCaption',
  'delete /captions/{id}': 'deleteCaption',
  'post /batches': 'createBatch',
  'get /batches': 'listBatches',
  'get /batches/{id}': 'getBatch',
  'delete /batches/{id}': 'deleteBatch',
  'post /captions/{id}/cancel': 'cancelCaption',
  'post /batches/{id}/cancel': 'cancelBatch',
  'get /batches/{id}/captions': 'listBatchCaptions',
  'get /batches/{id}/export': 'exportBatch',
  'post /webhooks/goapi': 'receiveGoapiWebhook',
  'get /captions/{id}/deliveries': 'listCaptionDeliveries',
  'post /captions/{id}/deliveries/retry': 'retryCaptionDeliveries',
  'post /captions/{id}/retry': 'retryCaption',
  'post /batches/{id}/retry': 'retryBatch',
  'get /usage': 'getUsage',
  'get /batches/{id}/deliveries': 'listBatchDeliveries',
  'post /batches/{id}/deliveries/retry': 'retryBatchDeliveries',
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
  license: string
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

function operations(document: Document): [string, Operation][] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item ?? {})
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => [`${method} ${path}`, operation as Operation] as [string, Operation]),
  )
}

describe('GET /openapi.json', () => {
  let service: TestService
  let document: Document
  beforeAll(async () => {
    // The parser's validation below holds this process for up to seconds on a loaded machine; test services
    // run without the event-loop check, so the requests that follow are not shed as overloaded.
    service = await startTestService({ env: authEnv(['alice']) })
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    document = response.json()
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when the document is validated by an OpenAPI parser, then it is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0')
    const result = await validate(structuredClone(document) as never)
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid')
  })

  it('when the document is dereferenced, then every $ref resolves and no reference is left', async () => {
    const dereferenced = await dereference(structuredClone(document) as never)
    expect(JSON.stringify(dereferenced)).not.toContain('"$ref"')
    const names = [...JSON.stringify(document).matchAll(/#\/components\/schemas\/(\w+)/g)].map((m) => m[1])
    expect(names.length).toBeGreaterThan(0)
    for (const name of names) expect(document.components?.schemas).toHaveProperty(name as string)
  })

  it('when the app serves a route, then the document lists it with that method', () => {
    const documented = new Set(operations(document).map(([key]) => key))
    const served = servedRoutes(service.app)
      .filter((route) => !UNDOCUMENTED.some((pattern) => pattern.test(route.url)))
      .flatMap((route) =>
        route.methods
          .filter((method) => method !== 'HEAD')
          .map((m) => `${m.toLowerCase()} ${openApiPath(route.url)}`),
      )
    expect(served.length).toBeGreaterThan(0)
    expect([...documented].sort()).toEqual([...new Set(served)].sort())
  })

  it('when an operation is documented, then it has its stable camelCase operationId, unique in the document', () => {
    const ids = Object.fromEntries(
      operations(document).map(([key, operation]) => [key, operation.operationId]),
    )
    expect(ids).toEqual(EXPECTED_OPERATION_IDS)
    const callbacks = Object.entries(document.webhooks ?? {}).map(([name, item]) => [
      name,
      (item as OpenAPIV3_1.PathItemObject).post?.operationId,
    ])
    expect(callbacks).toEqual([
      ['captionFinished', 'captionFinished'],
      ['batchCompleted', 'batchCompleted'],
    ])
    const all = [...Object.values(ids), ...callbacks.map(([, id]) => id)] as string[]
    for (const id of all) expect(id).toMatch(/^[a-z][a-zA-Z]+$/)
    expect(new Set(all).size).toBe(all.length)
  })

  it("when the document's info is read, then it carries the package's version and licence and a server", () => {
    expect(document.info.version).toBe(PACKAGE.version)
    expect(document.info.license?.name).toBe(PACKAGE.license)
    expect(document.servers?.map((server) => server.url)).toEqual(['/'])
  })

  it('when an operation is documented, then it lists every status the route answers with', () => {
    const listed = Object.fromEntries(
      operations(document).map(([key, operation]) => [key, Object.keys(operation.responses ?? {}).sort()]),
    )
    expect(listed).toEqual(
      Object.fromEntries(
        Object.entries(EXPECTED_STATUSES).map(([key, statuses]) => [key, [...statuses].sort()]),
      ),
    )
  })

  it('when an operation answers an error status, then it is the one Error shape and names its codes', () => {
    for (const [key, operation] of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400 || key === 'get /readyz') continue
        const answer = response as OpenAPIV3_1.ResponseObject
        expect(answer.content?.['application/json']?.schema, `${key} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        })
        const codes = [...answer.description.matchAll(/^- `(\w+)`/gm)].map((match) => match[1] as string)
        expect(codes.length, `${key} ${status}`).toBeGreaterThan(0)
        for (const code of codes) {
          expect(REQUEST_ERRORS[code as keyof typeof REQUEST_ERRORS]?.status, `${key} ${code}`).toBe(
            Number(status),
          )
        }
      }
    }
    const errorShape = document.components?.schemas?.Error as OpenAPIV3_1.SchemaObject
    expect([...(errorShape.required ?? [])].sort()).toEqual([
      'code',
      'details',
      'error',
      'message',
      'statusCode',
    ])
  })

  it('when a route is on the captions API, then it asks for a caller token; the webhook asks for its secret', () => {
    expect(document.components?.securitySchemes?.callerToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    })
    expect(document.components?.securitySchemes?.goapiWebhookSecret).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-webhook-secret',
    })
    expect(document.security).toEqual([{ callerToken: [] }])
    const byKey = Object.fromEntries(operations(document))
    for (const [key, operation] of Object.entries(byKey)) {
      if (key.includes(' /captions')) expect(operation.security, key).toBeUndefined()
    }
    expect(byKey['post /webhooks/goapi']?.security).toEqual([{ goapiWebhookSecret: [] }])
    expect(byKey['get /healthz']?.security).toEqual([])
    expect(byKey['get /readyz']?.security).toEqual([])
  })

  it('when POST /captions is read, then it describes its body, the Idempotency-Key header and Location', () => {
    const post = document.paths?.['/captions']?.post as Operation
    const body = (post.requestBody as OpenAPIV3_1.RequestBodyObject).content['application/json']
      ?.schema as OpenAPIV3_1.SchemaObject
    expect(body.required).toEqual(['imageUrl'])
    const promptStyle = body.properties?.promptStyle as OpenAPIV3_1.SchemaObject
    expect(promptStyle.enum).toContain('Descriptive (Casual)')
    expect(post.parameters).toContainEqual(
      expect.objectContaining({
        in: 'header',
        name: 'idempotency-key',
        required: false,
        schema: expect.objectContaining({ type: 'string', maxLength: 255 }),
      }),
    )
    const accepted = post.responses?.['202'] as OpenAPIV3_1.ResponseObject
    expect(accepted.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Caption' })
    expect(accepted.headers).toHaveProperty('location')
    expect(post.parameters).toContainEqual(
      expect.objectContaining({
        in: 'header',
        name: 'prefer',
        required: false,
        description: expect.stringContaining('wait=N'),
      }),
    )
    const waited = post.responses?.['200'] as OpenAPIV3_1.ResponseObject
    expect(waited.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Caption' })
    expect(waited.headers).toHaveProperty('preference-applied')
    expect(accepted.headers).toHaveProperty('preference-applied')
    const limited = post.responses?.['429'] as OpenAPIV3_1.ResponseObject
    expect(limited.headers).toHaveProperty('retry-after')
  })

  it('when the service answers requests, then each status it sends is one the document lists for that route', async () => {
    const answers = [
      ['post /captions', await service.app.inject({ method: 'POST', url: '/captions', payload: {} })],
      [
        'post /captions',
        await service.app.inject({
          method: 'POST',
          url: '/captions',
          headers: bearer('alice'),
          payload: { imageUrl: uniqueImageUrl('openapi') },
        }),
      ],
      [
        'post /captions',
        await service.app.inject({ method: 'POST', url: '/captions', headers: bearer('alice'), payload: {} }),
      ],
      [
        'get /captions/{id}',
        await service.app.inject({
          url: '/captions/00000000-0000-4000-8000-000000000000',
          headers: bearer('alice'),
        }),
      ],
      ['get /captions', await service.app.inject({ url: '/captions?cursor=nope', headers: bearer('alice') })],
      [
        'post /webhooks/goapi',
        await service.app.inject({ method: 'POST', url: '/webhooks/goapi', payload: {} }),
      ],
      ['get /readyz', await service.app.inject({ url: '/readyz' })],
    ] as const
    const byKey = Object.fromEntries(operations(document))
    const statuses = answers.map(([key, reply]) => `${key} ${reply.statusCode}`)
    expect(statuses).toEqual([
      'post /captions 401',
      'post /captions 202',
      'post /captions 400',
      'get /captions/{id} 404',
      'get /captions 400',
      'post /webhooks/goapi 401',
      'get /readyz 200',
    ])
    for (const [key, reply] of answers) {
      expect(Object.keys(byKey[key]?.responses ?? {}), key).toContain(String(reply.statusCode))
    }
  })

  it('when /docs is asked for without a caller token, then it is served while the API still wants one', async () => {
    const docs = await service.app.inject({ url: '/docs' })
    expect(docs.statusCode).toBe(200)
    expect(docs.headers['content-type']).toContain('text/html')
    expect(docs.body).not.toMatch(/https?:\/\/(?!localhost)/)
    expect((await service.app.inject({ url: '/docs/json' })).json()).toEqual(document)
    expect((await service.app.inject({ url: '/captions' })).statusCode).toBe(401)
  })

  it('when the batch export is read, then it offers jsonl, csv and zip, jsonl names its record, and zip its caption layouts', () => {
    const get = document.paths?.['/batches/{id}/export']?.get as Operation
    const ok = get.responses?.['200'] as OpenAPIV3_1.ResponseObject
    expect(Object.keys(ok.content ?? {})).toEqual(['application/x-ndjson', 'text/csv', 'application/zip'])
    expect(ok.content?.['application/x-ndjson']?.schema).toEqual({
      $ref: '#/components/schemas/ExportRecord',
    })
    const record = document.components?.schemas?.ExportRecord as OpenAPIV3_1.SchemaObject
    expect(Object.keys(record.properties ?? {})).toEqual([
      'name',
      'imageUrl',
      'status',
      'caption',
      'error',
      'imageError',
      'captions',
    ])
    expect(record.required).not.toContain('imageError')
    expect(record.required).not.toContain('captions')
    expect(get.parameters).toContainEqual(
      expect.objectContaining({ in: 'query', name: 'format', required: false }),
    )
    // The export options for trainers, each with its values and a description.
    const parameters = new Map(
      (get.parameters as OpenAPIV3_1.ParameterObject[]).map((parameter) => [parameter.name, parameter]),
    )
    const schemaOf = (name: string) => parameters.get(name)?.schema as OpenAPIV3_1.SchemaObject
    expect(schemaOf('captions').enum).toEqual(['lines', 'files'])
    expect(schemaOf('ext').enum).toEqual(['txt', 'caption'])
    expect(schemaOf('images').enum).toEqual(['true', 'false'])
    expect(schemaOf('tagsDedupe').enum).toEqual(['true', 'false'])
    expect(schemaOf('tagsUnderscores').enum).toEqual(['spaces', 'keep'])
    expect(schemaOf('folder').pattern).toBe('^[1-9][0-9]{0,3}_[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$')
    expect(schemaOf('tagsMax').minimum).toBe(1)
    for (const name of [
      'captions',
      'ext',
      'folder',
      'images',
      'tagsExclude',
      'tagsDedupe',
      'tagsUnderscores',
      'tagsMax',
    ]) {
      expect(parameters.get(name)?.required, name).toBe(false)
      expect(String(parameters.get(name)?.description ?? schemaOf(name)?.description), name).toMatch(/\S{10}/)
    }
  })

  it('when the document is read, then it describes the callback fields and the delivery log', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the JSON document, walked by path in the assertions below
    const doc = document as unknown as Record<string, any>
    const caption = doc.components.schemas.Caption
    expect(caption.required).toEqual(expect.arrayContaining(['callbackUrl', 'callback']))
    expect(caption.properties.callback.properties.state.enum).toEqual([
      'none',
      'pending',
      'delivered',
      'failed',
      'gone',
    ])
    const list = doc.paths['/captions/{id}/deliveries'].get.responses['200'].content['application/json']
    expect(JSON.stringify(list.schema)).toContain('Delivery')
    const delivery = doc.components.schemas.Delivery
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
    const event = doc.components.schemas.CallbackEvent
    expect(event.properties.type.enum).toEqual(['caption.completed', 'caption.failed', 'caption.canceled'])
    const webhook = doc.webhooks.captionFinished.post
    expect(webhook.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ])
    expect(webhook.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CallbackEvent',
    })
    const batchEvent = doc.components.schemas.BatchCompletedEvent
    expect(batchEvent.properties.type.const).toBe('batch.completed')
    expect(batchEvent.properties.data).toEqual({ $ref: '#/components/schemas/Batch' })
    expect(doc.webhooks.batchCompleted.post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/BatchCompletedEvent',
    })
    expect(doc.webhooks.batchCompleted.post.parameters).toEqual(webhook.parameters)
    expect(doc.components.schemas.Delivery.properties.eventType.enum).toEqual([
      'caption.completed',
      'caption.failed',
      'caption.canceled',
      'batch.completed',
    ])
    const deliveryFields = doc.components.schemas.Delivery.properties
    expect(deliveryFields.outcome.enum).toEqual(['delivered', 'failed', 'gone', 'refused'])
    expect(deliveryFields.error.anyOf ?? [deliveryFields.error]).toContainEqual(
      expect.objectContaining({
        enum: ['timeout', 'connection_failed', 'tls_failed', 'not_allowed', 'not_signed', 'interrupted'],
      }),
    )
    const retry = doc.paths['/captions/{id}/deliveries/retry'].post
    expect(Object.keys(retry.responses)).toEqual(expect.arrayContaining(['202', '400', '404', '409', '429']))
    // A re-send takes no body: the document describes none, so a typed client sends none.
    expect(retry.requestBody).toBeUndefined()
    expect(doc.paths['/batches/{id}/deliveries/retry'].post.requestBody).toBeUndefined()
  })
})
