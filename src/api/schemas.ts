import { z } from 'zod'
import { hasUnstorableText, nestingDepth } from '../lib/storable-text.js'

/** The schemas every caller-facing route shares: URLs, stored text, metadata, ids and pages. */

export const MAX_URL_LENGTH = 2048
export const MAX_METADATA_BYTES = 16 * 1024
/** Deep enough for any real metadata, shallow enough for every client's JSON parser. */
export const MAX_METADATA_DEPTH = 32
const UNSTORABLE_ERROR = 'must not contain U+0000 or an unpaired surrogate (\\u0000, \\ud800-\\udfff)'

/**
 * An absolute http(s) URL, turned into its WHATWG form (`href`: percent-encoded, host lower-cased,
 * default port and dot segments dropped), which is what is stored, sent and fingerprinted. What the
 * parser would silently drop or guess (surrounding whitespace, control characters, a missing `//host`,
 * which it fills with the first path segment) is refused instead.
 */
export const httpUrl = z
  .string({ error: 'must be a string holding an absolute http(s) URL' })
  .max(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters` })
  .superRefine((value, context) => {
    const problem = httpUrlProblem(value)
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem })
  })
  .transform((value) => new URL(value).href)
  .pipe(
    z
      .string()
      .max(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters once percent-encoded` }),
  )

const WITH_AUTHORITY = /^https?:\/\/[^/?#\s]/i

function httpUrlProblem(value: string): string | undefined {
  if (/^\s|\s$/.test(value)) return 'must not have leading or trailing whitespace'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters'
  if (hasUnstorableText(value)) return UNSTORABLE_ERROR
  if (!/^https?:/i.test(value)) return 'must be an absolute http(s) URL'
  if (!WITH_AUTHORITY.test(value)) return 'must have a host'
  return URL.canParse(value) ? undefined : 'must be an absolute http(s) URL'
}

export const metadataSchema = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .meta({ description: 'Any JSON object up to 16 KiB, returned as given' })
  // First, and the end of the checks when it fails: the ones after it walk the whole value.
  .refine((value) => nestingDepth(value, MAX_METADATA_DEPTH) <= MAX_METADATA_DEPTH, {
    error: `must nest at most ${MAX_METADATA_DEPTH} levels`,
    abort: true,
  })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES, {
    error: `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
  })
  .refine((value) => !hasUnstorableText(value), { error: UNSTORABLE_ERROR })

/** Text a caller gives that is stored and shown back: no NUL, no unpaired surrogate. */
export const storableText = (maxLength: number) =>
  z
    .string({ error: 'must be a string' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine((value) => !hasUnstorableText(value), { error: UNSTORABLE_ERROR })

/** A route's `:id`, a UUID naming what it is the id of. */
export const idParams = (what: string) =>
  z.object({
    id: z.uuid({ error: `must be a ${what} id (a UUID)` }),
  })

/** The query of a page of a list: how many items, and where the previous page ended. */
export const pageQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int({ error: 'must be a whole number from 1 to 100' })
    .min(1, { error: 'must be a whole number from 1 to 100' })
    .max(100, { error: 'must be a whole number from 1 to 100' })
    .default(20),
  // Any string: one this service did not issue (too long, say) is refused as invalid_cursor when decoded.
  cursor: z.string().optional().meta({ description: "A page's `nextCursor`, passed back as it was given" }),
})

/** A page of a list: its items and the cursor of the next page. */
export function pageOf<Item extends z.ZodType>(item: Item, meta: { id: string; description: string }) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass back as `cursor` for the next page; null on the last' }),
    })
    .meta(meta)
}

/**
 * The headers a create (POST /captions, POST /batches) reads, for the OpenAPI document. Every value passes here: the key is
 * checked by the service (`invalid_idempotency_key`), where a key sent twice can be seen.
 */
export const idempotencyKeyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .meta({
      description:
        'Makes a retried create safe: the same key and body within 24 hours return the first answer ' +
        'again; 1 to 255 printable ASCII characters, sent once',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x20-\\x7e]+$',
    }),
})
