/**
 * `npm run generate`: the Prisma client in src/generated/ (git-ignored), generated again only when the
 * schema or Prisma's version changed since the last time. Silent when it works, so that `npm start`
 * prints nothing but the service's log; Prisma's own output shows when it fails.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../', import.meta.url))
const stampFile = `${root}src/generated/prisma/.generated-from`

const stamp = createHash('sha256')
  .update(readFileSync(`${root}prisma/schema.prisma`))
  .update(require('prisma/package.json').version)
  .update(require('@prisma/client/package.json').version)
  .digest('hex')

let previous = ''
try {
  previous = readFileSync(stampFile, 'utf8')
} catch {
  // never generated
}
if (previous !== stamp) {
  const result = spawnSync(`${root}node_modules/.bin/prisma`, ['generate'], {
    cwd: root,
    encoding: 'utf8',
    // The schema engine runs as WebAssembly in Node: no engine binary to download.
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath },
  })
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '')
    process.stderr.write(result.stderr ?? '')
    if (result.error) console.error(result.error)
    process.exit(result.status ?? 1)
  }
  writeFileSync(stampFile, stamp)
}
