import { z } from 'zod'
import { storableJson } from '../lib/storable-text.js'

/** What GoAPI's Joycaption endpoint is asked for; fixed by GoAPI's docs. */
export const JOYCAPTION_MODEL = 'Qubico/joycaption'
export const JOYCAPTION_TASK_TYPE = 'joycaption-beta-one'

export const PROMPT_STYLES = [
  'Descriptive',
  'Descriptive (Casual)',
  'Straightforward',
  'Stable Diffusion Prompt',
  'MidJourney',
  'Danbooru tag list',
  'e621 tag list',
  'Rule34 tag list',
  'Booru-like tag list',
  'Art Critic',
  'Product Listing',
  'Social Media Post',
] as const
export type PromptStyle = (typeof PROMPT_STYLES)[number]

export const NAMED_CAPTION_LENGTHS = [
  'any',
  'very short',
  'short',
  'medium-length',
  'long',
  'very long',
] as const
/** Word counts are strings, "20" to "260" in steps of 10, as the upstream model takes them. */
export const WORD_COUNT_CAPTION_LENGTHS = Array.from({ length: 25 }, (_, i) => String(20 + i * 10))
export const CAPTION_LENGTHS: readonly string[] = [...NAMED_CAPTION_LENGTHS, ...WORD_COUNT_CAPTION_LENGTHS]

/**
 * The task object as GoAPI sends it (create and get-task responses, webhooks). Parsed leniently:
 * GoAPI adds fields over time, so only what the service reads is checked and the rest passes through.
 */
export const goapiTaskSchema = z.preprocess(
  storableJson,
  z.looseObject({
    task_id: z.string().min(1),
    status: z.string(),
    model: z.string().optional(),
    task_type: z.string().optional(),
    input: z.record(z.string(), z.unknown()).nullish(),
    output: z.looseObject({ text: z.string().nullish() }).nullish(),
    error: z
      .looseObject({
        code: z.number().nullish(),
        message: z.string().nullish(),
        raw_message: z.string().nullish(),
      })
      .nullish(),
  }),
)
export type GoapiTask = z.infer<typeof goapiTaskSchema>

/** `{ code, data, message }` around a task, as create and get-task answer. */
export const goapiEnvelopeSchema = z.looseObject({
  code: z.number(),
  data: z.unknown().optional(),
  message: z.string().nullish(),
})

/** A webhook delivery: `{ timestamp, data: <task> }`. */
export const goapiWebhookSchema = z.looseObject({
  timestamp: z.number().optional(),
  data: goapiTaskSchema,
})

/** Where a GoAPI task stands, in GoAPI's terms but without its many spellings. */
export type TaskPhase = 'pending' | 'processing' | 'completed' | 'failed'

/**
 * GoAPI's status words mapped onto the phases a caption follows. Unknown words map to nothing: they are
 * not terminal, and the service waits for a word it knows rather than guessing.
 */
export function mapGoapiStatus(status: string): TaskPhase | undefined {
  switch (status.trim().toLowerCase()) {
    case 'pending':
    case 'staged':
      return 'pending'
    case 'processing':
    case 'running':
      return 'processing'
    case 'completed':
      return 'completed'
    case 'failed':
    case 'cancelled':
    case 'canceled':
      return 'failed'
    default:
      return undefined
  }
}

const SECRET_KEY = /(secret|api[-_]?key|authorization|password|token)$/i

/** A deep copy with every secret-looking field replaced, for logs and the stored raw task. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactSecrets) as T
  if (value === null || typeof value !== 'object') return value
  // fromEntries defines own properties, so a "__proto__" key stays data and never becomes a prototype.
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      SECRET_KEY.test(key) && inner !== '' && inner != null ? '[REDACTED]' : redactSecrets(inner),
    ]),
  ) as T
}

/** GoAPI's own words for why a task failed, or a fallback that says where they are missing. */
export function taskErrorMessage(task: GoapiTask): string {
  const message = task.error?.message?.trim() || task.error?.raw_message?.trim()
  return message || `GoAPI reported the task as ${task.status.toLowerCase()} without a message`
}
