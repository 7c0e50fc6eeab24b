import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

interface Owner {
  pid: number
  /** The process's start time (Linux), so that a pid the kernel has since given to another is not taken for it. */
  startedAt: string | undefined
}

/** Beside PostgreSQL's own `postmaster.pid`: which service runs this data directory's server. */
const OWNER_FILE = 'caption-service.pid'
const STOP_WAIT_MS = 15_000
const POLL_MS = 100

const run = promisify(execFile)

/**
 * Takes the data directory for this process before its PostgreSQL starts. A server found running there
 * while the service that started it is gone (a SIGKILL leaves the server behind: nothing of the service
 * runs to stop it) is stopped first, and the log says so. While that service lives, its server is left
 * alone, and PostgreSQL refuses the second start with its own reason (`postmaster.pid already exists`).
 */
export async function claimDataDir(dataDir: string, log: Log): Promise<void> {
  const owner = await readOwner(dataDir)
  if (owner && owner.pid !== process.pid && isAlive(owner.pid, owner.startedAt)) return
  const postmaster = await runningPostmaster(dataDir)
  await writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n${startTimeOf(process.pid) ?? ''}\n`)
  if (postmaster === undefined) return
  log.warn(
    { dataDir, pid: postmaster, servicePid: owner?.pid },
    'the embedded PostgreSQL of this data directory is still running, left by a service that is gone (killed with SIGKILL?): stopping it',
  )
  await stopPostmaster(postmaster, dataDir)
  log.info({ dataDir, pid: postmaster }, 'the leftover embedded PostgreSQL stopped')
}

/** Forgets the claim once the server stopped. */
export async function releaseDataDir(dataDir: string): Promise<void> {
  const owner = await readOwner(dataDir)
  if (owner?.pid === process.pid) await rm(path.join(dataDir, OWNER_FILE), { force: true })
}

async function readOwner(dataDir: string): Promise<Owner | undefined> {
  const text = await readFile(path.join(dataDir, OWNER_FILE), 'utf8').catch(() => undefined)
  const [pid, startedAt] = (text ?? '').split('\n')
  const number = Number(pid)
  return Number.isInteger(number) && number > 0
    ? { pid: number, startedAt: startedAt || undefined }
    : undefined
}

/** The pid in PostgreSQL's lock file, when that process runs and is a PostgreSQL server. */
async function runningPostmaster(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined)
  const pid = Number(text?.split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined
  return (await commandOf(pid)).includes('postgres') ? pid : undefined
}

async function stopPostmaster(pid: number, dataDir: string): Promise<void> {
  // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one, for a server that does not stop.
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    const deadline = Date.now() + STOP_WAIT_MS
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }
  throw new Error(`the leftover embedded PostgreSQL (pid ${pid}) in ${dataDir} did not stop: stop it by hand`)
}

/** Running, and the same process when its start time is known (a zombie counts as gone). */
function isAlive(pid: number, startedAt?: string): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = procStat(pid)
  if (stat === undefined) return true
  if (stat[0] === 'Z' || stat[0] === 'X') return false
  return startedAt === undefined || stat[19] === startedAt
}

/** The fields of /proc/<pid>/stat after the command name (Linux only). */
function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.[19]
}

async function commandOf(pid: number): Promise<string> {
  const fromProc = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
  if (fromProc !== undefined) return fromProc.split('\0').join(' ')
  return run('ps', ['-o', 'command=', '-p', String(pid)]).then(
    ({ stdout }) => stdout,
    () => '',
  )
}
