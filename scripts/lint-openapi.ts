/**
 * `npm run lint:openapi`: lints the OpenAPI document the service serves at GET /openapi.json with Redocly's
 * recommended rules (configured in redocly.yaml). The document comes from the app built without a
 * database or a listener, as `npm run client:generate` gets it, so the lint needs nothing running.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { currentOpenApiDocument } from '../clients/typescript/generate.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const REDOCLY = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js')

const dir = mkdtempSync(path.join(tmpdir(), 'caption-service-openapi-'))
try {
  const file = path.join(dir, 'openapi.json')
  writeFileSync(file, `${JSON.stringify(await currentOpenApiDocument(), null, 2)}\n`)
  const lint = spawnSync(
    process.execPath,
    [REDOCLY, 'lint', '--config', path.join(ROOT, 'redocly.yaml'), file],
    {
      stdio: 'inherit',
      // No usage telemetry and no update check: CI talks to nothing but the npm registry.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  )
  process.exitCode = lint.status ?? 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
