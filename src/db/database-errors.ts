/**
 * Prisma's codes for "cannot reach / lost the database" (P1001, P1002, P1017), the network's, and
 * PostgreSQL's refusals of the connection itself: wrong password or user (28P01, 28000), no such
 * database (3D000), shutting down or starting (57P01, 57P03), too many connections (53300).
 */
const DATABASE_DOWN =
  /^(P1001|P1002|P1017|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|28P01|28000|3D000|53300|57P01|57P03)$/

/**
 * Whether an error means the database answers but lacks the service's tables or columns: it was never
 * migrated, or not to this version (undefined_table, undefined_column).
 */
export function isDatabaseNotMigrated(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '42P01' || code === '42703'
}

/** Whether an error means the database cannot be used right now (as opposed to a bad statement). */
export function isDatabaseDown(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof code === 'string' && DATABASE_DOWN.test(code)) return true
    if (
      typeof message === 'string' &&
      /Can't reach database server|Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(
        message,
      )
    )
      return true
    current = cause
  }
  return false
}

/** Why the database could not be used, in PostgreSQL's (or the network's) words; never a password. */
export function databaseProblem(error: unknown): string {
  // Several addresses (localhost: ::1 and 127.0.0.1) refused at once come as one AggregateError.
  const first = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error
  const { message, code } = (first ?? {}) as { message?: unknown; code?: unknown }
  if (typeof message === 'string' && message !== '') return message
  return typeof code === 'string' ? code : String(first)
}

/** Where DATABASE_URL points (host, port, database), without its user name or password. */
export function databaseAddress(databaseUrl: string): string {
  const url = new URL(databaseUrl)
  const database = decodeURIComponent(url.pathname.slice(1))
  return `${url.hostname || 'localhost'}:${url.port || '5432'}/${database || '(default database)'}`
}
