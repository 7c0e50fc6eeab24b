import type { Sql } from './pool.js'

/** Names of the migrations the database holds as applied (and not rolled back). */
export async function appliedMigrationNames(sql: Sql): Promise<Set<string>> {
  const { rows } = await sql.query<{ migration_name: string }>(
    `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  )
  return new Set(rows.map((row) => row.migration_name))
}
