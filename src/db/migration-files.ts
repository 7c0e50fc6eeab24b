import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the committed migrations live; readable without loading Prisma's schema engine. */
const projectRoot = fileURLToPath(new URL('../../', import.meta.url))
export const PRISMA_DIR = path.join(projectRoot, 'prisma')
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations')
export const SCHEMA_FILE = path.join(PRISMA_DIR, 'schema.prisma')

/** The committed migrations' names, in the order they apply. */
export async function migrationNames(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}
