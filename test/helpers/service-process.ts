import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  at: number
}

/** The service as a separate process (`node dist/server.js` or `npm start`), its output kept. */
export interface ServiceProcess {
  proc: ChildProcess
  pid: number
  baseUrl: string
  exited: Promise<Exit>
  hasExited(): boolean
  /** stdout and stderr, as written. */
  output(): string
  /** The JSON log lines on stdout, parsed. */
  logs(): Record<string, unknown>[]
  /** Resolves once /readyz answers 200; fails when the process exits first. */
  ready(timeoutMs?: number): Promise<void>
  /** Exits within `timeoutMs`, or undefined. */
  exitWithin(timeoutMs: number): Promise<Exit | undefined>
  /** Every process started under it, so far (found through /proc). */
  descendants(): number[]
  /** SIGKILLs it and everything it started that still runs, whatever process group each is in. */
  kill(): void
}

export interface SpawnOptions {
  env: Record<string, string>
  /** `npm start` instead of `node dist/server.js`. */
  npmStart?: boolean
  /** In a process group of its own, as a shell runs a foreground job. */
  detached?: boolean
}

/** Starts the built service (see `npm run build`) on a free loopback port given in `env.PORT`. */
export function spawnService(options: SpawnOptions): ServiceProcess {
  if (!options.npmStart) assertBuilt()
  const [command, args] = options.npmStart ? ['npm', ['start']] : [process.execPath, ['dist/server.js']]
  const proc = spawn(command as string, args as string[], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const chunks: string[] = []
  const stdout: string[] = []
  proc.stdout?.on('data', (chunk: Buffer) => {
    chunks.push(chunk.toString())
    stdout.push(chunk.toString())
  })
  proc.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  let done = false
  const exited = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => {
      done = true
      resolve({ code, signal, at: Date.now() })
    }),
  )
  const pid = proc.pid as number
  const baseUrl = `http://127.0.0.1:${options.env.PORT}`
  // Each process with its start time, so that a pid the kernel has since given to another is left alone.
  const seen = new Map<number, string>()
  const descendants = () => {
    for (const child of descendantsOf(pid)) if (!seen.has(child)) seen.set(child, startTimeOf(child))
    return [...seen.keys()]
  }
  return {
    proc,
    pid,
    baseUrl,
    exited,
    hasExited: () => done,
    output: () => chunks.join(''),
    logs: () =>
      stdout
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        if (done) throw new Error(`the service exited before it was ready; output:\n${chunks.join('')}`)
        if ((await probe(`${baseUrl}/readyz`)) === 200) {
          descendants()
          return
        }
        if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms:\n${chunks.join('')}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    exitWithin: (timeoutMs) =>
      Promise.race([
        exited,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs)),
      ]),
    descendants,
    kill() {
      if (!done) seen.set(pid, startTimeOf(pid))
      descendants()
      for (const [each, startTime] of seen) {
        if (!isRunning(each) || startTimeOf(each) !== startTime) continue
        try {
          process.kill(each, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
    },
  }
}

/** `npm test` builds first; a test file run on its own needs `npm run build` after each change to src/. */
function assertBuilt() {
  if (!existsSync(path.join(PROJECT_ROOT, 'dist/server.js'))) {
    throw new Error('no build in dist/: run npm run build (npm test does)')
  }
}

/** A directory of its own for a zero-setup service's state, which the postgres user can enter. */
export async function tempDataDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'caption-zero-setup-'))
  await chmod(dir, 0o755)
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

export type Probe = number | 'refused'

/** GET on a connection of its own: the HTTP status, or 'refused' when no answer comes. */
export function probe(url: string): Promise<Probe> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 2_000 }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', () => resolve('refused'))
  })
}

/** Running (a zombie, dead but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

/** The command line of a process, for messages. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
  } catch {
    return `(pid ${pid}, gone)`
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child)
      queue.push(child)
    }
  }
  return found
}
