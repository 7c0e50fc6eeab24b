/** Whether an error means the database cannot be reached right now (as opposed to a bad statement). */
// Prisma's codes for "cannot reach / lost the database" (P1001, P1002, P1017) and pg's connection errors.
const DATABASE_DOWN = /^(P1001|P1002|P1017|ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P01|57P03)$/

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
