import { mkdir, stat } from 'node:fs/promises'
import path from 'node:path'

/**
 * Makes `dir` and its missing parents one level at a time (mode 755, so that another user such as
 * `postgres` can walk through), and says plainly why it cannot. Node's own recursive `mkdir` loops
 * forever where a parent refuses new entries with ENOENT (`/proc/nope`).
 */
export async function makeDirectory(dir: string): Promise<void> {
  const absolute = path.resolve(dir)
  const found = await stat(absolute).catch((error: NodeJS.ErrnoException) => error)
  if (!(found instanceof Error)) {
    if (found.isDirectory()) return
    throw new Error(`${absolute} is a file, not a directory`)
  }
  // ENOTDIR: some parent is a file, which the parent's own turn names.
  if (found.code !== 'ENOENT' && found.code !== 'ENOTDIR') {
    throw new Error(`${absolute} cannot be read (${found.code ?? found.message})`)
  }
  const parent = path.dirname(absolute)
  if (parent !== absolute) await makeDirectory(parent)
  await mkdir(absolute, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return
    throw new Error(`${absolute} cannot be created (${error.code ?? error.message})`)
  })
}
