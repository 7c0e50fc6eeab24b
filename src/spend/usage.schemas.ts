import { z } from 'zod'

const INSTANT_ERROR =
  'must be an ISO date (2026-11-28, meaning 00:00Z) or a date-time with a zone (2026-11-28T10:00:00Z)'
const isoDate = z.iso.date()
const isoDateTime = z.iso.datetime({ offset: true })
/** What PostgreSQL's timestamps and JavaScript's ISO strings both hold without a sign or a fifth digit. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z')
const LATEST = Date.parse('9999-12-31T23:59:59.999Z')

/** An ISO date (its 00:00Z) or date-time with a zone, as the instant it names. */
export const instant = z
  .string()
  .transform((value, context) => {
    const parsed =
      isoDate.safeParse(value).success || isoDateTime.safeParse(value).success
        ? Date.parse(value)
        : Number.NaN
    if (Number.isNaN(parsed) || parsed < EARLIEST || parsed > LATEST) {
      context.addIssue({ code: 'custom', message: INSTANT_ERROR })
      return z.NEVER
    }
    return new Date(parsed)
  })
  .meta({ description: INSTANT_ERROR.replace('must be', 'An instant:') })

export const usageQuery = z.strictObject({
  from: instant.optional().meta({ description: 'Inclusive; 00:00Z of the current UTC day by default' }),
  to: instant.optional().meta({ description: 'Exclusive; 00:00Z of the next UTC day by default' }),
})
export type UsageQuery = z.infer<typeof usageQuery>

const usd = (description: string) => z.number().meta({ description: `${description}, in US dollars` })

export const usageResource = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    /** Every caption accepted in the range, reused ones included. */
    captions: z.number().int(),
    /** Captions that took an earlier caption's text instead of paying for a task. */
    reused: z.number().int(),
    failed: z.number().int(),
    /** GoAPI tasks made for those captions, resent ones included. */
    goapiTasks: z.number().int(),
    costUsd: usd("What the range's GoAPI tasks cost ($0.01 each)"),
    /** The caller's daily budget and where the current UTC day stands; null when it has none. */
    budget: z
      .object({
        dailyUsd: usd('The cap per UTC day (CALLER_BUDGETS)'),
        spentTodayUsd: usd('Held or spent on the current UTC day, resends included'),
        remainingUsd: usd('What is left of the cap today'),
      })
      .nullable(),
  })
  .meta({
    id: 'Usage',
    description:
      "The caller's captions created in [from, to) and what they cost, and its daily budget (null when it has none)",
  })
export type UsageResource = z.infer<typeof usageResource>
