/** The list-valued variables (tokens, budgets, secrets, hosts): parsed, or what is wrong with them. */

export interface ApiToken {
  caller: string
  token: string
}

/** Standard Webhooks asks for secrets of 24 to 64 random bytes. */
const MIN_SIGNING_SECRET_BYTES = 24

export function splitSecrets(value: string): string[] {
  return splitList(value)
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0)
}

const SIGNING_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/

/** What is wrong with CALLBACK_SIGNING_SECRET, never quoting a secret; undefined when it is usable. */
export function signingSecretProblem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const secrets = splitList(value)
  if (secrets.length === 0) return 'holds no secret'
  for (const [index, secret] of secrets.entries()) {
    const base64 = SIGNING_SECRET.exec(secret)?.[1]
    const which = secrets.length > 1 ? `secret ${index + 1}` : 'the secret'
    // Strict base64: what other languages' Standard Webhooks libraries decode the same way.
    if (base64 === undefined || Buffer.from(base64, 'base64').toString('base64') !== base64) {
      return `${which} must be whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 32))`
    }
    if (Buffer.from(base64, 'base64').length < MIN_SIGNING_SECRET_BYTES) {
      return `${which} must hold at least ${MIN_SIGNING_SECRET_BYTES} bytes once base64-decoded`
    }
  }
  return undefined
}

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
/** A host name (or IPv4 address), `*.suffix`, or a bracketed IPv6 address, then an optional `:port`. */
const ALLOWED_HOST = new RegExp(
  `^(?:(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`,
  'i',
)

/** What is wrong with CALLBACK_ALLOWED_HOSTS, naming the first entry at fault; undefined when usable. */
export function allowedHostsProblem(value: string): string | undefined {
  for (const entry of splitList(value)) {
    const match = ALLOWED_HOST.exec(entry)
    const port = match?.[1] === undefined ? undefined : Number(match[1])
    if (match === null || (port !== undefined && (port < 1 || port > 65535))) {
      return `"${entry}" must be a host name or *.suffix, with an optional :port from 1 to 65535 (no scheme, path or empty label)`
    }
  }
  return undefined
}

const CALLER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** `name:token,name:token` into pairs, or a message saying what is wrong (never quoting a token). */
export function parseApiTokens(value: string): ApiToken[] | string {
  const pairs: ApiToken[] = []
  for (const [index, entry] of splitList(value).entries()) {
    const colon = entry.indexOf(':')
    const caller = entry.slice(0, colon)
    const token = entry.slice(colon + 1)
    if (colon < 0 || !CALLER_NAME.test(caller)) {
      return `entry ${index + 1} must be name:token with a name of letters, digits, ".", "_" or "-"`
    }
    if (token.length < 16) return `the token of "${caller}" must be at least 16 characters`
    if (pairs.some((pair) => pair.caller === caller)) return `caller "${caller}" is listed twice`
    if (pairs.some((pair) => pair.token === token)) return `two callers share one token`
    pairs.push({ caller, token })
  }
  return pairs
}

const DOLLARS = /^(\d{1,9})(?:\.(\d{1,2}))?$/
/** caller_spend counts cents in a PostgreSQL integer. */
const MAX_BUDGET_CENTS = 2_147_483_647

/** `name:dollars,name:dollars` into cents per caller, or a message naming the entry at fault. */
export function parseCallerBudgets(value: string): Map<string, number> | string {
  const budgets = new Map<string, number>()
  for (const entry of splitList(value)) {
    const colon = entry.lastIndexOf(':')
    const caller = entry.slice(0, Math.max(colon, 0)).trim()
    const dollars = DOLLARS.exec(entry.slice(colon + 1).trim())
    if (colon < 0 || !CALLER_NAME.test(caller)) {
      return `"${entry}" must be name:dollars with a name of letters, digits, ".", "_" or "-"`
    }
    if (dollars === null) {
      return `"${entry}": the budget must be a number of dollars, at least 0, with at most 2 decimals (5, 0.50)`
    }
    const cents = Number(dollars[1]) * 100 + Number((dollars[2] ?? '').padEnd(2, '0'))
    if (cents > MAX_BUDGET_CENTS) return `"${entry}": the budget must be at most $21474836.47`
    if (budgets.has(caller)) return `caller "${caller}" is listed twice`
    budgets.set(caller, cents)
  }
  return budgets
}

/** What is wrong with CALLER_BUDGETS: its syntax, or (when callers have tokens) a name no token has. */
export function callerBudgetsProblem(value: string, tokens: readonly ApiToken[]): string | undefined {
  const budgets = parseCallerBudgets(value)
  if (typeof budgets === 'string') return budgets
  if (tokens.length === 0) return undefined
  const unknown = [...budgets.keys()].find((caller) => !tokens.some((pair) => pair.caller === caller))
  return unknown === undefined ? undefined : `caller "${unknown}" has no token in API_TOKENS`
}
