import fc from 'fast-check'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookSecretFor } from '../../src/captions/webhook-secret.js'
import { TOO_DEEP } from '../../src/lib/storable-text.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import {
  contentType,
  deepJsonText,
  headerText,
  hostileBodyText,
  hostileJsonBody,
  hostileKey,
  hostileUnit,
  hostileValue,
  hugeText,
  IMAGE,
  idSegment,
  longHeaderText,
  queryString,
} from '../helpers/hostile-arbitraries.js'
import { expectErrorReply } from '../helpers/http.js'
import {
  startTestService,
  TEST_GOAPI_KEY,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'

const TOKEN = 'alpha-token-0123456789'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const REQUEST_ID = /^[\w.:-]{1,128}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/
const PROPERTY_TIMEOUT_MS = 120_000

type Reply = LightMyRequestResponse
/** The type of the values an arbitrary generates. */
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never
type Delivery = ReturnType<typeof goapiDelivery>

describe('hostile input', () => {
  // One service and one database for the whole file, so counting every row in it is a fair "no change".
  let service: TestService
  /** Every response body and header set the run saw, for the secret check at the end. */
  const seen: string[] = []

  beforeAll(async () => {
    service = await startTestService({
      // GoAPI's own webhooks are dropped: only the deliveries these properties send change a caption.
      faults: { dropWebhookRate: 1 },
      // Auth on, so a caller token exists to leak; the rate limit out of the way of a few hundred posts.
      env: { AUTH_DISABLED: 'false', API_TOKENS: `alpha:${TOKEN}`, RATE_LIMIT_PER_MINUTE: '100000' },
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  async function send(options: InjectOptions): Promise<Reply> {
    const reply = await service.app.inject(options)
    seen.push(reply.body, JSON.stringify(reply.headers))
    return reply
  }

  function postCaptionText(body: string, type: string | undefined = 'application/json') {
    return send({
      method: 'POST',
      url: '/captions',
      headers: { ...AUTH, ...(type === undefined ? {} : { 'content-type': type }) },
      payload: body,
    })
  }

  /**
   * What a property's runs ended in, by status (and code or outcome), to prove the generators reach the
   * paths worth testing rather than bouncing off the first check every time.
   */
  function tally() {
    const seenOutcomes = new Map<string, number>()
    return {
      add(reply: Reply, detail = '') {
        const key = `${reply.statusCode}${detail ? ` ${detail}` : ''}`
        seenOutcomes.set(key, (seenOutcomes.get(key) ?? 0) + 1)
      },
      expectSome(...keys: string[]) {
        for (const key of keys) {
          expect(
            seenOutcomes.get(key) ?? 0,
            `no run ended in ${key}: ${JSON.stringify([...seenOutcomes])}`,
          ).toBeGreaterThan(0)
        }
      },
    }
  }
  /** The error code of a refusal ('' for a success, '?' for a body that is not JSON). */
  function codeOf(reply: Reply): string {
    if (reply.statusCode < 400) return ''
    try {
      return String((reply.json() as { code?: unknown }).code)
    } catch {
      return '?'
    }
  }

  /** Whether the reply is the refusal of a `__proto__` or constructor.prototype key in the body. */
  function refusesPrototypeKey(reply: Reply): boolean {
    if (reply.statusCode !== 400) return false
    const { code, message } = reply.json() as { code: string; message: string }
    return code === 'validation_failed' && /^body: must not contain the key /.test(message)
  }

  /** Everything a request could have changed: rows in this file's database and GoAPI tasks paid for. */
  async function counts() {
    const [captions, idempotencyKeys] = await Promise.all([
      service.db.caption.count(),
      service.db.idempotencyKey.count(),
    ])
    return { captions, idempotencyKeys, goapiTasks: service.simulator.tasks.size }
  }
  type Counts = Awaited<ReturnType<typeof counts>>

  function added(before: Counts, change: Partial<Counts>): Counts {
    return {
      captions: before.captions + (change.captions ?? 0),
      idempotencyKeys: before.idempotencyKeys + (change.idempotencyKeys ?? 0),
      goapiTasks: before.goapiTasks + (change.goapiTasks ?? 0),
    }
  }

  /** Fails with the status and the start of the body, which fast-check prints with the counterexample. */
  function expectStatus(reply: Reply, allowed: (status: number) => boolean, what: string): void {
    if (!allowed(reply.statusCode)) {
      throw new Error(`expected ${what}, got ${reply.statusCode}: ${reply.body.slice(0, 300)}`)
    }
  }
  const acceptedOr4xx = (status: number) => status === 202 || (status >= 400 && status < 500)

  /** A refusal: the service's one error shape, and nothing changed anywhere. */
  async function expectRefusedWithoutChange(reply: Reply, before: Counts): Promise<void> {
    expectErrorReply(reply, reply.statusCode)
    expect(await counts()).toEqual(before)
  }

  /** 202 adds exactly one caption and one GoAPI task; anything else is a refusal that changed nothing. */
  async function expectCreatedOrRefused(reply: Reply, before: Counts): Promise<void> {
    expectStatus(reply, acceptedOr4xx, '202 or a 4xx')
    if (reply.statusCode === 202) {
      const caption = reply.json() as { id: string }
      expect(await counts()).toEqual(added(before, { captions: 1, goapiTasks: 1 }))
      expect(await service.db.caption.findUnique({ where: { id: caption.id } })).not.toBeNull()
    } else {
      await expectRefusedWithoutChange(reply, before)
    }
  }

  describe('POST /captions bodies', () => {
    const jsonBodies = tally()
    async function checkJsonBody(body: unknown): Promise<void> {
      const before = await counts()
      const reply = await postCaptionText(JSON.stringify(body))
      jsonBodies.add(reply, refusesPrototypeKey(reply) ? 'prototype key' : codeOf(reply))
      await expectCreatedOrRefused(reply, before)
    }

    it(
      'when the body is any JSON value (wrong types, unicode, prototype keys, huge strings), then 202 or a 4xx, and only a 202 adds a caption',
      async () => {
        await fc.assert(fc.asyncProperty(hostileJsonBody, checkJsonBody), { numRuns: 100 })
        jsonBodies.expectSome('202', '400 validation_failed', '400 prototype key')
      },
      PROPERTY_TIMEOUT_MS,
    )

    // fast-check's counterexample (seed 1850837958): PostgreSQL jsonb cannot hold U+0000, so the insert fails.
    it('when metadata holds a NUL character deep inside, then a 4xx, not a 500', async () => {
      await checkJsonBody({
        imageUrl: 'https://images.example.com/',
        metadata: { captionLength: { prototype: '\u0000' } },
      })
    })

    it('when metadata holds a lone surrogate, then a 4xx, not a 500', async () => {
      await checkJsonBody({ imageUrl: IMAGE, metadata: { note: '\ud800' } })
    })

    it('when imageUrl holds a NUL character (a URL the parser accepts), then a 4xx, not a 500', async () => {
      await checkJsonBody({ imageUrl: `${IMAGE}?q=\u0000` })
    })

    const rawBodies = tally()
    async function checkRawBody(body: string, type: string | undefined): Promise<void> {
      const before = await counts()
      const reply = await postCaptionText(body, type)
      rawBodies.add(reply, codeOf(reply))
      await expectCreatedOrRefused(reply, before)
    }

    it(
      'when the body is raw text (junk, cut-short JSON, repeated keys, __proto__) under any content type, then 202 or a 4xx, and only a 202 adds a caption',
      async () => {
        await fc.assert(fc.asyncProperty(hostileBodyText, contentType, checkRawBody), { numRuns: 150 })
        rawBodies.expectSome('202', '400 invalid_json', '400 validation_failed', '415 unsupported_media_type')
      },
      PROPERTY_TIMEOUT_MS,
    )

    const deepMetadata = tally()
    it(
      'when metadata nests 33 to 5000 levels (objects or arrays, any key, any leaf), then 400 validation_failed names metadata and nothing changes',
      async () => {
        await fc.assert(
          fc.asyncProperty(deepJsonText, async (deep) => {
            const metadata = deep.startsWith('{') ? deep : `{"a":${deep}}`
            const before = await counts()
            const reply = await postCaptionText(
              `{"imageUrl":${JSON.stringify(IMAGE)},"metadata":${metadata}}`,
            )
            deepMetadata.add(reply, codeOf(reply))
            const error = expectErrorReply(reply, 400, 'validation_failed')
            expect(error.message).toBe('metadata: must nest at most 32 levels')
            expect(await counts()).toEqual(before)
          }),
          { numRuns: 60 },
        )
        deepMetadata.expectSome('400 validation_failed')
      },
      PROPERTY_TIMEOUT_MS,
    )

    // fast-check's counterexample (seed 400155993).
    it('when the raw JSON escapes a NUL character inside metadata, then a 4xx, not a 500', async () => {
      await checkRawBody(
        '{"imageUrl":"https://images.example.com/hostile/cat.png?q=","metadata":{"":{"":"\\u0000"}}}',
        'application/json',
      )
    })
  })

  describe('GET /captions queries and ids', () => {
    const queries = tally()
    async function checkQuery(query: string): Promise<void> {
      const before = await counts()
      const reply = await send({ method: 'GET', url: `/captions?${query}`, headers: AUTH })
      queries.add(reply, codeOf(reply))
      expectStatus(reply, (status) => status === 200 || status === 400, '200 or 400')
      if (reply.statusCode === 200) {
        const page = reply.json() as { items: unknown; nextCursor: unknown }
        expect(Array.isArray(page.items)).toBe(true)
        expect(page.nextCursor === null || typeof page.nextCursor === 'string').toBe(true)
      } else {
        expectErrorReply(reply, 400)
      }
      expect(await counts()).toEqual(before)
    }

    it(
      'when the list query holds any keys and values (repeated, unicode, very long, odd cursors), then 200 or 400',
      async () => {
        await fc.assert(fc.asyncProperty(queryString, checkQuery), { numRuns: 100 })
        queries.expectSome('200', '400 validation_failed', '400 invalid_cursor')
      },
      PROPERTY_TIMEOUT_MS,
    )

    // fast-check's counterexample (seed 985909496): a well-formed cursor dated in year 0, which
    // PostgreSQL's timestamptz cannot take.
    it('when the cursor decodes to ["0000-12-31T23:59:59.999Z", <uuid>], then 400, not a 500', async () => {
      const cursor =
        'WyIwMDAwLTEyLTMxVDIzOjU5OjU5Ljk5OVoiLCIwMDAwMDAwMC0wMDAwLTEwMDAtODAwMC0wMDAwMDAwMDAwMDAiXQ'
      expect(JSON.parse(Buffer.from(cursor, 'base64url').toString())).toEqual([
        '0000-12-31T23:59:59.999Z',
        '00000000-0000-1000-8000-000000000000',
      ])
      await checkQuery(`cursor=${cursor}`)
    })

    async function checkIdSegment(segment: string): Promise<void> {
      const reply = await send({ method: 'GET', url: `/captions/${segment}`, headers: AUTH })
      expectStatus(reply, (status) => status === 400 || status === 404, '400 or 404')
      expectErrorReply(reply, reply.statusCode)
    }

    it(
      'when GET /captions/:id gets any path segment (junk, bad percent-encoding, very long), then 400 or 404 in the error shape',
      async () => {
        await fc.assert(fc.asyncProperty(idSegment, checkIdSegment), { numRuns: 80 })
      },
      PROPERTY_TIMEOUT_MS,
    )

    // fast-check's counterexample (seed 1325680415): Fastify answers a path parameter over 100 characters
    // itself, with 414 and its own body, before routing, hooks and the error handler.
    it('when the id is 101 characters long, then 400 or 404 in the error shape, not a bare 414', async () => {
      await checkIdSegment('a'.repeat(101))
    })

    // fast-check's counterexample (seed 1622972066): the same bypass for bad percent-encoding.
    it('when the id is badly percent-encoded, then the error shape with a lower-case code', async () => {
      await checkIdSegment('%E0%A4%A')
    })
  })

  describe('headers', () => {
    const authorization = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .constantFrom(`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER   ${TOKEN}`, `Bearer ${TOKEN}   `)
          .map((value) => ({ value, valid: true })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            undefined,
            '',
            'Bearer',
            'Bearer ',
            TOKEN,
            `Basic ${Buffer.from(`alpha:${TOKEN}`).toString('base64')}`,
            `Bearer ${TOKEN}x`,
            `Bearer ${TOKEN.slice(0, -1)}`,
            `Bearer ${TOKEN} ${TOKEN}`,
            `Token ${TOKEN}`,
            `Bearer ${TOKEN.toUpperCase()}`,
          )
          .map((value) => ({ value, valid: false })),
      },
      {
        weight: 1,
        arbitrary: fc
          .oneof(
            headerText,
            longHeaderText,
            headerText.map((text) => `Bearer ${text}`),
          )
          .map((value) => ({ value, valid: false })),
      },
    )
    const idempotencyKey = fc.option(
      fc.oneof(
        // Two keys used again and again: replays, and 422 when the body differs.
        { weight: 3, arbitrary: fc.constantFrom('key-a', 'key-b') },
        { weight: 2, arbitrary: headerText },
        { weight: 1, arbitrary: longHeaderText },
        { weight: 1, arbitrary: fc.uuid() },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', ' ', 'k'.repeat(255), 'k'.repeat(256), 'tab\tkey', 'caf\u00e9'),
        },
      ),
      { nil: undefined },
    )
    const requestId = fc.option(
      fc.oneof(fc.stringMatching(/^[\w.:-]{1,128}$/), headerText, longHeaderText, fc.uuid(), fc.constant('')),
      { nil: undefined },
    )
    const headerCase = fc.record({
      route: fc.constantFrom('post', 'list'),
      authorization,
      idempotencyKey,
      requestId,
      metadata: fc.constantFrom(undefined, { v: 1 }),
    })

    const headerOutcomes = tally()
    async function checkHeaders(input: Generated<typeof headerCase>): Promise<void> {
      const headers: Record<string, string> = {}
      if (input.authorization.value !== undefined) headers.authorization = input.authorization.value
      if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey
      if (input.requestId !== undefined) headers['x-request-id'] = input.requestId
      const before = await counts()
      const reply =
        input.route === 'list'
          ? await send({ method: 'GET', url: '/captions?limit=1', headers })
          : await send({
              method: 'POST',
              url: '/captions',
              headers: { ...headers, 'content-type': 'application/json' },
              payload: JSON.stringify({ imageUrl: IMAGE, metadata: input.metadata }),
            })
      expectStatus(reply, (status) => status < 500, 'no 5xx')
      headerOutcomes.add(reply, reply.headers['idempotent-replayed'] === 'true' ? 'replayed' : codeOf(reply))

      // The request id: the caller's when it is sane, a fresh UUID otherwise.
      const echoed = reply.headers['x-request-id']
      if (input.requestId !== undefined && REQUEST_ID.test(input.requestId)) {
        expect(echoed).toBe(input.requestId)
      } else {
        expect(echoed).toMatch(UUID)
        expect(echoed).not.toBe(input.requestId)
      }

      if (!input.authorization.valid) {
        expectErrorReply(reply, 401, 'unauthorized')
        expect(reply.headers['www-authenticate']).toMatch(/^Bearer /)
        expect(await counts()).toEqual(before)
        return
      }
      if (input.route === 'list') {
        expect(reply.statusCode).toBe(200)
        expect(await counts()).toEqual(before)
        return
      }
      const key = input.idempotencyKey
      if (key === undefined) {
        expect(reply.statusCode).toBe(202)
        expect(await counts()).toEqual(added(before, { captions: 1, goapiTasks: 1 }))
      } else if (!IDEMPOTENCY_KEY.test(key)) {
        expectErrorReply(reply, 400, 'invalid_idempotency_key')
        expect(await counts()).toEqual(before)
      } else if (reply.statusCode === 202 && reply.headers['idempotent-replayed'] === 'true') {
        expect(await counts()).toEqual(before)
      } else if (reply.statusCode === 202) {
        expect(await counts()).toEqual(added(before, { captions: 1, idempotencyKeys: 1, goapiTasks: 1 }))
      } else {
        expectErrorReply(reply, 422, 'idempotency_key_reused')
        expect(await counts()).toEqual(before)
      }
    }

    it(
      'when Authorization, Idempotency-Key and X-Request-Id hold anything (long, unicode, tabs, empty), then no 5xx, the request id is the sane one sent or a fresh UUID, and only an accepted request changes anything',
      async () => {
        // Random runs reach a replay only when a key comes back with the body it was first used with, which
        // some seeds never do: these examples run first, so every outcome below is always checked.
        const valid = { value: `Bearer ${TOKEN}`, valid: true }
        const post = { route: 'post' as const, authorization: valid, requestId: undefined }
        const examples: [Generated<typeof headerCase>][] = [
          [{ ...post, idempotencyKey: 'key-example', metadata: undefined }],
          [{ ...post, idempotencyKey: 'key-example', metadata: undefined }],
          [{ ...post, idempotencyKey: 'key-example', metadata: { v: 1 } }],
        ]
        await fc.assert(fc.asyncProperty(headerCase, checkHeaders), { numRuns: 100, examples })
        headerOutcomes.expectSome(
          '200',
          '202',
          '401 unauthorized',
          '400 invalid_idempotency_key',
          '202 replayed',
          '422 idempotency_key_reused',
        )
      },
      PROPERTY_TIMEOUT_MS,
    )
  })

  describe('POST /webhooks/goapi payloads', () => {
    type Path = readonly string[]
    const PATHS: Path[] = [
      ['timestamp'],
      ['data'],
      ['data', 'task_id'],
      ['data', 'status'],
      ['data', 'output'],
      ['data', 'output', 'text'],
      ['data', 'error'],
      ['data', 'error', 'code'],
      ['data', 'error', 'message'],
      ['data', 'input'],
      ['data', 'config'],
      ['data', 'logs'],
      ['data', 'meta'],
      ['data', 'model'],
    ]
    const path = fc.constantFrom(...PATHS)
    const mutation = fc.oneof(
      { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), path }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), path, value: hostileValue }) },
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constant('add' as const),
          at: fc.constantFrom<Path>([], ['data'], ['data', 'output']),
          key: hostileKey,
          value: hostileValue,
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constant('finish' as const),
          status: fc.constantFrom(
            'completed',
            'COMPLETED',
            'failed',
            'processing',
            'running',
            'cancelled',
            'weird',
          ),
          text: fc.oneof(hostileValue, hugeText),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('foreign_task' as const) }) },
    )
    // One delivery in five is also damaged as text: cut short, or a few characters slipped in.
    const textMutation = fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
          fc.record({
            op: fc.constant('insert' as const),
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            text: fc.string({ unit: hostileUnit, minLength: 1, maxLength: 3 }),
          }),
        ),
      },
    )
    const body = fc.oneof(
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('any' as const), value: hostileValue }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('mutated' as const),
          mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
          text: textMutation,
        }),
      },
    )
    const secret = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('own' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('missing' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('wrong' as const),
          variant: fc.constantFrom(
            'random',
            'signing key',
            'empty',
            'one character changed',
            'one character short',
            'one character long',
            'another caption id',
            'upper-case id',
            'another key',
          ),
          text: headerText,
          at: fc.nat(),
        }),
      },
    )
    const webhookCase = fc.record({ secret, body })
    type WebhookCase = Generated<typeof webhookCase>
    type Mutation = Generated<typeof mutation>

    interface Target {
      id: string
      taskId: string
    }
    /** The caption before the current one, whose task a `foreign_task` mutation borrows. */
    let previous: Target

    async function newCaption(): Promise<Target> {
      const reply = await postCaptionText(JSON.stringify({ imageUrl: IMAGE }))
      expect(reply.statusCode).toBe(202)
      const caption = reply.json() as { id: string; goapiTaskId: string }
      return { id: caption.id, taskId: caption.goapiTaskId }
    }

    beforeAll(async () => {
      previous = await newCaption()
    })

    /** Every caption as it stands (the columns a delivery could write), by id. */
    async function captionStates(): Promise<Map<string, string>> {
      const rows = await service.db.caption.findMany({
        select: {
          id: true,
          status: true,
          caption: true,
          errorCode: true,
          errorMessage: true,
          goapiTaskId: true,
          goapiTask: true,
          updatedAt: true,
          completedAt: true,
          nextAttemptAt: true,
          callbackNextAt: true,
        },
      })
      return new Map(rows.map((row) => [row.id, JSON.stringify(row)]))
    }

    function parentOf(root: Record<string, unknown>, at: Path): Record<string, unknown> | undefined {
      let current: unknown = root
      for (const key of at) {
        if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined
        current = (current as Record<string, unknown>)[key]
      }
      return current !== null && typeof current === 'object' && !Array.isArray(current)
        ? (current as Record<string, unknown>)
        : undefined
    }

    /** Sets an own data property, so even `__proto__` goes out as a key of the JSON. */
    function setKey(object: Record<string, unknown>, key: string, value: unknown): void {
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
    }

    function mutate(payload: Record<string, unknown>, change: Mutation): void {
      switch (change.op) {
        case 'drop': {
          const parent = parentOf(payload, change.path.slice(0, -1))
          if (parent) delete parent[change.path.at(-1) as string]
          return
        }
        case 'replace': {
          const parent = parentOf(payload, change.path.slice(0, -1))
          if (parent) setKey(parent, change.path.at(-1) as string, change.value)
          return
        }
        case 'add': {
          const parent = parentOf(payload, change.at)
          if (parent) setKey(parent, change.key, change.value)
          return
        }
        case 'finish': {
          const data = parentOf(payload, ['data'])
          if (data) {
            data.status = change.status
            data.output = { text: change.text }
          }
          return
        }
        case 'foreign_task': {
          const data = parentOf(payload, ['data'])
          if (data) data.task_id = previous.taskId
          return
        }
      }
    }

    function bodyText(input: WebhookCase['body'], delivery: Delivery): string {
      if (input.kind === 'any') return JSON.stringify(input.value)
      const payload = structuredClone(delivery.payload) as Record<string, unknown>
      for (const change of input.mutations) mutate(payload, change)
      const text = JSON.stringify(payload)
      if (input.text === null) return text
      const at = Math.floor(input.text.at * text.length)
      return input.text.op === 'truncate'
        ? text.slice(0, at)
        : `${text.slice(0, at)}${input.text.text}${text.slice(at)}`
    }

    function secretHeader(input: WebhookCase['secret'], target: Target): string | undefined {
      const own = webhookSecretFor(target.id, [TEST_WEBHOOK_SECRET])
      if (input.kind === 'own') return own
      if (input.kind === 'missing') return undefined
      const mac = own.slice(own.indexOf('.') + 1)
      const at = input.at % own.length
      switch (input.variant) {
        case 'random':
          return input.text
        case 'signing key':
          return TEST_WEBHOOK_SECRET
        case 'empty':
          return ''
        case 'one character changed':
          return `${own.slice(0, at)}${own[at] === 'A' ? 'B' : 'A'}${own.slice(at + 1)}`
        case 'one character short':
          return own.slice(0, -1)
        case 'one character long':
          return `${own}A`
        case 'another caption id':
          return `${previous.id}.${mac}`
        case 'upper-case id':
          return `${target.id.toUpperCase()}.${mac}`
        case 'another key':
          return webhookSecretFor(target.id, ['another-webhook-key-0123456789'])
      }
    }

    /** What the service's JSON parser makes of the text: malformed, a prototype key it refuses, or fine. */
    function parserVerdict(text: string): 'malformed' | 'prototype key' | 'ok' {
      let prototypeKey = false
      try {
        JSON.parse(text.replace(/^\ufeff/, ''), (key, value) => {
          if (key === '__proto__') prototypeKey = true
          if (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)
            prototypeKey = true
          return value
        })
      } catch {
        return 'malformed'
      }
      return prototypeKey ? 'prototype key' : 'ok'
    }

    const deliveries = tally()
    async function checkWebhook(input: WebhookCase): Promise<void> {
      const target = await newCaption()
      const delivery = goapiDelivery({ captionId: target.id, taskId: target.taskId })
      const text = bodyText(input.body, delivery)
      const secretValue = secretHeader(input.secret, target)
      const before = await captionStates()
      const countsBefore = await counts()
      const reply = await send({
        method: 'POST',
        url: '/webhooks/goapi',
        headers: {
          'content-type': 'application/json',
          ...(secretValue === undefined ? {} : { 'x-webhook-secret': secretValue }),
        },
        payload: text,
      })
      previous = target
      expectStatus(reply, (status) => status < 500, 'no 5xx')
      deliveries.add(
        reply,
        reply.statusCode === 200 ? (reply.json() as { outcome: string }).outcome : codeOf(reply),
      )
      expect(await counts()).toEqual(countsBefore)
      const after = await captionStates()

      // The secret is checked before the body is read: without it nothing else is looked at.
      if (input.secret.kind !== 'own') {
        expectErrorReply(reply, 401, 'webhook_unauthorized')
        expect(after).toEqual(before)
        return
      }
      // A body over the route's 64 KiB limit is refused as it is read, before it is parsed.
      if (Buffer.byteLength(text) > 64 * 1024) {
        expectErrorReply(reply, 413, 'payload_too_large')
        expect(after).toEqual(before)
        return
      }
      // Then the body is parsed before the route runs: malformed JSON and prototype keys are refused.
      const verdict = parserVerdict(text)
      if (verdict === 'malformed') {
        expectErrorReply(reply, 400, 'invalid_json')
        expect(after).toEqual(before)
        return
      }
      if (verdict === 'prototype key') {
        const error = expectErrorReply(reply, 400, 'validation_failed')
        expect(error.message).toMatch(/^body: must not contain the key (__proto__|constructor\.prototype)$/)
        expect(after).toEqual(before)
        return
      }
      expectStatus(reply, (status) => [200, 400, 401].includes(status), '200, 400 or 401')
      if (reply.statusCode === 200) {
        const { outcome } = reply.json() as { outcome: string }
        expect(['applied', 'unchanged', 'unknown_task']).toContain(outcome)
        // Only the caption the secret names may move, and only when the answer says it did.
        if (outcome === 'applied') {
          before.delete(target.id)
          after.delete(target.id)
        }
        expect(after).toEqual(before)
        return
      }
      expectErrorReply(
        reply,
        reply.statusCode,
        reply.statusCode === 400 ? 'invalid_webhook_payload' : 'webhook_unauthorized',
      )
      expect(after).toEqual(before)
    }

    it(
      'when a delivery is any JSON or a valid one with fields dropped, replaced or added, with the caption secret, a wrong one or none, then no 5xx, 401 without the right secret, and a caption changes only when the answer says applied',
      async () => {
        // One example per outcome below runs before the random cases, so no seed can miss one.
        const own = { kind: 'own' as const }
        const completes = { op: 'finish' as const, status: 'completed' as const, text: 'A cat on a mat.' }
        const examples: [WebhookCase][] = [
          [{ secret: own, body: { kind: 'mutated', mutations: [completes], text: null } }],
          [{ secret: { kind: 'missing' }, body: { kind: 'mutated', mutations: [completes], text: null } }],
          [{ secret: own, body: { kind: 'any', value: 42 } }],
          [
            {
              secret: own,
              body: { kind: 'mutated', mutations: [completes], text: { op: 'truncate', at: 0.5 } },
            },
          ],
          [
            {
              secret: own,
              body: {
                kind: 'mutated',
                mutations: [{ op: 'add', at: ['data'], key: '__proto__', value: {} }],
                text: null,
              },
            },
          ],
        ]
        await fc.assert(fc.asyncProperty(webhookCase, checkWebhook), { numRuns: 100, examples })
        deliveries.expectSome(
          '200 applied',
          '401 webhook_unauthorized',
          '400 invalid_webhook_payload',
          '400 invalid_json',
          '400 validation_failed',
        )
      },
      PROPERTY_TIMEOUT_MS,
    )

    // fast-check's counterexample (seed 1801564836): an extra key holding NUL, stored with the raw task
    // in jsonb.
    it('when an authentic delivery carries a NUL character in a key GoAPI added, then no 5xx', async () => {
      await checkWebhook({
        secret: { kind: 'own' },
        body: {
          kind: 'mutated',
          mutations: [
            { op: 'add', at: ['data'], key: '\u0000', value: '' },
            { op: 'drop', path: ['timestamp'] },
          ],
          text: null,
        },
      })
    })

    it.each([
      ['a NUL character', 'A cat\u0000 on a mat.'],
      ['a lone surrogate', 'A cat \ud800 on a mat.'],
    ])('when an authentic completed delivery has %s in output.text, then no 5xx', async (_, text) => {
      await checkWebhook({
        secret: { kind: 'own' },
        body: { kind: 'mutated', mutations: [{ op: 'finish', status: 'completed', text }], text: null },
      })
    })
    it('when an authentic completed delivery nests arrays 30000 levels deep (within the 64 KiB limit), then it is applied and stored cut at 64 levels', async () => {
      const target = await newCaption()
      const delivery = goapiDelivery({ captionId: target.id, taskId: target.taskId, text: 'A deep cat.' })
      const text = JSON.stringify(delivery.payload)
      const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
      const reply = await send({ ...delivery, payload: `${text.slice(0, -2)},"extra":${deep}}}` })
      previous = target
      expect(reply.statusCode).toBe(200)
      expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: target.id } })
      expect(row.status).toBe('completed')
      expect(row.caption).toBe('A deep cat.')
      // The task itself is level 1, so "extra" holds 63 arrays, the innermost cut.
      let stored = (row.goapiTask as { extra: unknown }).extra
      let levels = 0
      while (Array.isArray(stored)) {
        levels++
        stored = stored[0]
      }
      expect(levels).toBe(63)
      expect(stored).toBe(TOO_DEEP)
    })
  })

  describe('secrets', () => {
    /** Every run of base64url characters long enough to hold a webhook MAC (43 characters). */
    function macCandidates(text: string): Set<string> {
      const found = new Set<string>()
      for (const [run] of text.matchAll(/[A-Za-z0-9_-]{43,}/g)) {
        for (let start = 0; start + 43 <= run.length; start++) found.add(run.slice(start, start + 43))
      }
      return found
    }

    it('when every property has run, then no log line and no response holds a token, a key or a caption webhook secret', async () => {
      const logs = service.rawLogs()
      const responses = seen.join('\n')
      expect(seen.length).toBeGreaterThan(100)
      expect(logs.length).toBeGreaterThan(0)
      // And all those `__proto__` and constructor.prototype keys polluted nothing.
      expect(Object.keys(Object.prototype)).toEqual([])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()

      for (const [where, text] of [
        ['logs', logs],
        ['responses', responses],
      ] as const) {
        for (const secret of [TOKEN, TEST_GOAPI_KEY, TEST_WEBHOOK_SECRET]) {
          expect(text.includes(secret), `${where} hold ${secret}`).toBe(false)
        }
        const candidates = macCandidates(text)
        const captions = await service.db.caption.findMany({ select: { id: true } })
        expect(captions.length).toBeGreaterThan(10)
        for (const { id } of captions) {
          const secret = webhookSecretFor(id, [TEST_WEBHOOK_SECRET])
          const mac = secret.slice(secret.indexOf('.') + 1)
          expect(candidates.has(mac), `${where} hold the webhook secret of caption ${id}`).toBe(false)
        }
      }
    })
  })
})
