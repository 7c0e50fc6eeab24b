import fc from 'fast-check'
import { CAPTION_STATUSES } from '../../src/captions/statuses.js'
import { CAPTION_LENGTHS, PROMPT_STYLES } from '../../src/goapi/task.js'

/**
 * fast-check arbitraries for hostile input: strings with the characters that break parsers, databases
 * and logs, JSON with prototype keys, raw JSON text with repeated keys, header values and query strings.
 */

export const IMAGE = 'https://images.example.com/hostile/cat.png'

/** Characters PostgreSQL cannot store: NUL in text and jsonb, lone surrogates in jsonb. */
export const UNSTORABLE_CHARACTERS = ['\u0000', '\ud800', '\udfff'] as const

/** Characters that have broken something somewhere: controls, BOM, RTL override, combining marks. */
export const NASTY_CHARACTERS = [
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\ufffd',
  '\ud83d\ude00',
  'e\u0301',
  '"',
  '\\',
  '%',
  '{',
  '<',
] as const

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** One unit of a hostile string: mostly printable ASCII, then any grapheme, any code point, a nasty one. */
export const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_CHARACTERS) },
  { weight: 1, arbitrary: fc.constantFrom(...UNSTORABLE_CHARACTERS) },
)

/** A short hostile string (may hold lone surrogates: only for JSON, never for URLs or headers). */
export const hostileText = fc.string({ unit: hostileUnit, maxLength: 24 })

/** A hostile string that is still well-formed UTF-16, so it can be percent-encoded. */
export const wellFormedText = hostileText.filter((text) => !LONE_SURROGATE.test(text))

/** Now and then a huge string: 10 to 100 thousand copies of one character. */
export const hugeText = fc
  .tuple(
    fc.constantFrom('x', 'é', '\ud83d\ude00', '\u0000', '"', '\\', ' '),
    fc.integer({ min: 10_000, max: 100_000 }),
  )
  .map(([character, length]) => character.repeat(Math.ceil(length / character.length)))

/** Keys that probe prototype handling, mixed with the API's own field names and random text. */
export const hostileKey = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'imageUrl',
      'promptStyle',
      'captionLength',
      'metadata',
      'callbackUrl',
    ),
  },
  { weight: 1, arbitrary: hostileText },
)

type Nesting = 'object' | 'array'

/** `levels` objects or arrays nested in one another around `leaf`, built without recursion. */
export function nestedValue(levels: number, kind: Nesting, key: string, leaf: unknown): unknown {
  let value = leaf
  // fromEntries makes `__proto__` an own key, as a JSON parser does.
  for (let level = 0; level < levels; level++)
    value = kind === 'object' ? Object.fromEntries([[key, value]]) : [value]
  return value
}

/** The JSON text of {@link nestedValue}, for depths (thousands of levels) JSON.stringify cannot reach. */
export function nestedJsonText(levels: number, kind: Nesting, key: string, leafText: string): string {
  return kind === 'object'
    ? `${`{${JSON.stringify(key)}:`.repeat(levels)}${leafText}${'}'.repeat(levels)}`
    : `${'['.repeat(levels)}${leafText}${']'.repeat(levels)}`
}

const nesting = fc.constantFrom<Nesting>('object', 'array')
const nestingKey = fc.constantFrom('a', '', 'metadata', 'imageUrl', 'constructor', '\u0000')
const nestingLeaf = fc.constantFrom<unknown>(null, 1, 'x', '\u0000', {}, [])

/** A value nested 2 to 300 levels: deep enough to pass any limit, shallow enough for JSON.stringify. */
export const deepValue = fc
  .tuple(fc.integer({ min: 2, max: 300 }), nesting, nestingKey, nestingLeaf)
  .map(([levels, kind, key, leaf]) => nestedValue(levels, kind, key, leaf))

/** JSON text nested 33 to 5000 levels: past the metadata limit, up to far past the call stack. */
export const deepJsonText = fc
  .tuple(fc.integer({ min: 33, max: 5000 }), nesting, nestingKey, nestingLeaf)
  .map(([levels, kind, key, leaf]) => nestedJsonText(levels, kind, key, JSON.stringify(leaf)))

function jsonish(withHugeStrings: boolean): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: hostileText },
      { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })) },
      { weight: 1, arbitrary: fc.constantFrom(true, false, null, 0, -1, 1e308, '', '0', 'null', '[]', '{}') },
      { weight: withHugeStrings ? 1 : 0, arbitrary: hugeText },
      { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }) },
      { weight: 1, arbitrary: deepValue },
    ),
  })).value
}

/** Any JSON-able value: wrong types, hostile strings (now and then huge), nested objects with hostile keys. */
export const hostileValue = jsonish(true)
/** The same without the huge strings, for places with a size limit of their own (metadata). */
export const smallHostileValue = jsonish(false)

/** URLs a caller might send for imageUrl or callbackUrl: good ones, odd ones, hostile ones. */
export const urlish = fc.oneof(
  { weight: 4, arbitrary: fc.constant(IMAGE) },
  { weight: 2, arbitrary: hostileText.map((text) => `https://images.example.com/${text}`) },
  { weight: 1, arbitrary: hostileText.map((text) => `${IMAGE}?q=${text}`) },
  { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'http://127.0.0.1/x.png',
      'http://[::1]/x.png',
      'http://169.254.169.254/latest/meta-data',
      'http://0x7f.1/x.png',
      'http://localhost/x.png',
      'https://user:pw@images.example.com/a.png',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'https://',
      'https:///a.png',
      'http:/images.example.com/a.png',
      'https:images.example.com/a.png',
      `  ${IMAGE}  `,
      `${IMAGE}\n`,
      'https://images.example.com/ä b.png',
      'HTTPS://IMAGES.EXAMPLE.COM:443/./a/../cat.png',
      `https://images.example.com/${'a'.repeat(2100)}`,
      `https://images.example.com/${'ä'.repeat(2000)}`,
      'http://127.0.0.1:9/callback',
    ),
  },
)

/** `fc.record` would assign `__proto__`; an own data property is what a JSON parser makes of it. */
function withKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return Object.fromEntries([...Object.entries(object), [key, value]])
}

/** A caption request that is valid more often than not, each field now and then replaced by junk. */
export const nearlyValidBody = fc.record(
  {
    imageUrl: fc.oneof({ weight: 8, arbitrary: urlish }, { weight: 1, arbitrary: hostileValue }),
    promptStyle: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...PROMPT_STYLES) },
      { weight: 1, arbitrary: hostileValue },
    ),
    captionLength: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...CAPTION_LENGTHS) },
      { weight: 1, arbitrary: hostileValue },
    ),
    callbackUrl: fc.oneof(
      // The one host the test service allows, with hostile paths; then anything.
      { weight: 3, arbitrary: hostileText.map((text) => `http://127.0.0.1:9/${text}`) },
      { weight: 1, arbitrary: urlish },
      { weight: 1, arbitrary: hostileValue },
    ),
    metadata: fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(hostileKey, smallHostileValue, { maxKeys: 5 }) },
      { weight: 1, arbitrary: deepValue.map((deep) => ({ deep })) },
      { weight: 1, arbitrary: hostileValue },
    ),
  },
  { requiredKeys: ['imageUrl'] },
)

/** A nearly valid body, now and then with one more key (which a strict schema must refuse). */
const nearlyValidBodyWithExtra = fc
  .tuple(
    nearlyValidBody,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(hostileKey, hostileValue) },
    ),
  )
  .map(([body, extra]) => (extra === null ? body : withKey(body, extra[0], extra[1])))

/**
 * A caption request the service accepts (printable ASCII metadata), so that a property's runs reach a
 * 202 by design rather than by luck: every junk field of a nearly valid body is refused, and a hundred
 * of them together sometimes hold no accepted one.
 */
const acceptedBody = fc.record(
  {
    imageUrl: fc.constant(IMAGE),
    promptStyle: fc.constantFrom(...PROMPT_STYLES),
    captionLength: fc.constantFrom(...CAPTION_LENGTHS),
    metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 }), {
      maxKeys: 4,
    }),
  },
  { requiredKeys: ['imageUrl'] },
)

/** Any JSON value as a POST /captions body. */
export const hostileJsonBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: hostileUnit }) },
  { weight: 1, arbitrary: fc.dictionary(hostileKey, hostileValue, { maxKeys: 6 }) },
  { weight: 8, arbitrary: nearlyValidBodyWithExtra },
  { weight: 2, arbitrary: acceptedBody },
)

const validBodyText = nearlyValidBodyWithExtra.map((body) => JSON.stringify(body))

/**
 * Raw request text: junk, cut-short JSON, JSON with a repeated key or a prototype key, JSON nested
 * thousands of levels deep, forms, > 1 MiB.
 */
export const hostileBodyText = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: hostileUnit, maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 80 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(validBodyText, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([text, cut]) => text.slice(0, Math.floor(cut * text.length))),
  },
  { weight: 8, arbitrary: validBodyText },
  { weight: 2, arbitrary: acceptedBody.map((body) => JSON.stringify(body)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('imageUrl', 'promptStyle', 'captionLength', 'callbackUrl', 'metadata'),
        hostileValue,
        fc.boolean(),
      )
      .map(([key, value, repeatedLast]) => {
        const good = `"imageUrl":${JSON.stringify(IMAGE)}`
        const repeated = `${JSON.stringify(key)}:${JSON.stringify(value)}`
        return repeatedLast ? `{${good},${repeated}}` : `{${repeated},${good}}`
      }),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          (value: string) => `{"imageUrl":${JSON.stringify(IMAGE)},"__proto__":${value}}`,
          (value: string) => `{"__proto__":${value},"imageUrl":${JSON.stringify(IMAGE)}}`,
          (value: string) => `{"imageUrl":${JSON.stringify(IMAGE)},"metadata":{"__proto__":${value}}}`,
          (value: string) => `{"imageUrl":${JSON.stringify(IMAGE)},"\\u005f_proto__":${value}}`,
          (value: string) =>
            `{"imageUrl":${JSON.stringify(IMAGE)},"constructor":{"prototype":${value}},"metadata":{}}`,
          (value: string) =>
            `{"imageUrl":${JSON.stringify(IMAGE)},"metadata":{"constructor":{"prototype":${value}}}}`,
          (value: string) => `{"imageUrl":${JSON.stringify(IMAGE)},"metadata":{"constructor":${value}}}`,
        ),
        fc.oneof(
          fc.constant('{"polluted":true}'),
          hostileValue.map((value) => JSON.stringify(value)),
        ),
      )
      .map(([wrap, value]) => wrap(value)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('metadata', 'imageUrl', 'promptStyle', 'captionLength', 'callbackUrl', 'extra'),
        deepJsonText,
      )
      .map(([field, deep]) =>
        field === 'imageUrl'
          ? `{"imageUrl":${deep}}`
          : `{"imageUrl":${JSON.stringify(IMAGE)},${JSON.stringify(field)}:${field === 'metadata' ? `{"a":${deep}}` : deep}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `imageUrl=${encodeURIComponent(IMAGE)}`,
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '{"imageUrl":',
      '\ufeff{}',
      `\ufeff{"imageUrl":${JSON.stringify(IMAGE)}}`,
      `{"imageUrl":${JSON.stringify(IMAGE)}}{"imageUrl":${JSON.stringify(IMAGE)}}`,
      `{"imageUrl":${JSON.stringify(IMAGE)}} trailing`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1024 * 1024, max: 1024 * 1024 + 4096 })
      .map((length) => `{"imageUrl":${JSON.stringify(IMAGE)},"metadata":{"blob":"${'x'.repeat(length)}"}}`),
  },
)

/** Content types: JSON with odd parameters and spellings, other types, garbage, none at all. */
export const contentType = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'Application/JSON',
      'application/json;;',
      'application/json; boundary=x; charset=',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/vnd.api+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '*/*',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
)

const asciiVisible = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })

/** A character allowed in an HTTP header value (HTAB, SP, VCHAR, obs-text), or any unicode one. */
export const headerUnit = fc.oneof(
  { weight: 6, arbitrary: asciiVisible },
  { weight: 1, arbitrary: fc.constantFrom('\t', ' ', '\u0080', '\u00a0', '\u00e9', '\u00ff') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
)
export const headerText = fc.string({ unit: headerUnit, maxLength: 60 })
export const longHeaderText = fc
  .tuple(fc.constantFrom('k', ' ', '\u00e9', '-'), fc.integer({ min: 200, max: 9000 }))
  .map(([character, length]) => character.repeat(length))

/** Query strings for GET /captions: the API's keys and junk, repeated keys, odd numbers and cursors. */
export const cursorLike = fc.oneof(
  fc
    .tuple(fc.date({ noInvalidDate: true }), fc.uuid())
    .map(([date, id]) => Buffer.from(JSON.stringify([date.toISOString(), id])).toString('base64url')),
  fc.tuple(hostileValue, hostileValue).map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url')),
  hostileValue.map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url')),
  fc.base64String({ maxLength: 80 }),
)

const queryKey = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'status',
      'limit',
      'cursor',
      '__proto__',
      'constructor',
      'prototype',
      'hasOwnProperty',
      'toString',
      'status[]',
      'limit[0]',
      'cursor.x',
    ),
  },
  { weight: 1, arbitrary: wellFormedText },
)

const queryValue = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...CAPTION_STATUSES, 'COMPLETED', 'queued ', '') },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 205 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '1e1',
      '0x10',
      ' 5',
      '5 ',
      'Infinity',
      'NaN',
      '1.0',
      '-0',
      '+3',
      '0b11',
      '1_0',
    ),
  },
  { weight: 3, arbitrary: cursorLike },
  { weight: 2, arbitrary: wellFormedText },
  { weight: 1, arbitrary: fc.integer({ min: 400, max: 8000 }).map((length) => 'A'.repeat(length)) },
)

const sometimesJunk = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: queryValue })

export const queryString = fc.oneof(
  {
    // The API's own parameters, mostly sane, so the cursor gets decoded and used.
    weight: 5,
    arbitrary: fc
      .record(
        {
          status: sometimesJunk(fc.constantFrom(...CAPTION_STATUSES)),
          limit: sometimesJunk(fc.integer({ min: 1, max: 100 }).map(String)),
          cursor: cursorLike,
        },
        { requiredKeys: ['cursor'] },
      )
      .map((query) => new URLSearchParams(query).toString()),
  },
  {
    weight: 5,
    arbitrary: fc
      .array(fc.tuple(queryKey, queryValue), { maxLength: 5 })
      .map((pairs) =>
        pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&'),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom('%', '&', '=', 'a', '+', '?', '[', ']', '%2', '%00', '%ff', '%E2%80', 'limit'),
      maxLength: 20,
    }),
  },
)

/** Path segments for GET /captions/:id: UUIDs that exist nowhere, junk, bad percent-encoding, long. */
export const idSegment = fc.oneof(
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
  { weight: 3, arbitrary: wellFormedText.map((text) => encodeURIComponent(text)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '%',
      '%zz',
      '%E0%A4%A',
      '%C0%80',
      '%00',
      '%2F',
      '%2e%2e',
      '..',
      '%20',
      `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(13)}`,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 3000 }).map((length) => 'a'.repeat(length)) },
)
