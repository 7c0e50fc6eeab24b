import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { request } from 'undici'

/** The servers under load and the simulator: child processes the bench starts, watches and stops. */

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url))

export interface Child {
  name: string
  process: ChildProcess
  url: string
  /** The last lines it wrote, shown when it fails. */
  output: string[]
}

/** `node <args>` in the project root with only `env` (and PATH) set. */
export function spawnNode(
  name: string,
  args: string[],
  url: string,
  env: Record<string, string>,
  onUnexpectedExit: (child: Child, reason: string) => void,
): Child {
  const child: Child = {
    name,
    url,
    output: [],
    process: spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  }
  const keep = (chunk: Buffer) => {
    child.output.push(...chunk.toString().split('\n').filter(Boolean))
    child.output.splice(0, Math.max(0, child.output.length - 30))
  }
  child.process.stdout?.on('data', keep)
  child.process.stderr?.on('data', keep)
  child.process.on('exit', (code, signal) => onUnexpectedExit(child, String(signal ?? code)))
  return child
}

/** Milliseconds from now (just after the spawn) to the first 200 from `probe`. */
export async function waitReady(
  child: Child,
  probe: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const spawnedAt = performance.now()
  const deadline = spawnedAt + 30_000
  for (;;) {
    const ok = await request(`${child.url}${probe}`, { headers })
      .then(async (response) => {
        await response.body.dump()
        return response.statusCode === 200
      })
      .catch(() => false)
    if (ok) return performance.now() - spawnedAt
    if (performance.now() > deadline) {
      throw new Error(`${child.name} not ready after 30 s:\n${child.output.join('\n')}`)
    }
    await sleep(10)
  }
}

/** SIGTERM, then SIGKILL if it has not exited 10 s later. */
export function stopChild(child: Child): Promise<void> {
  const proc = child.process
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    proc.kill('SIGTERM')
  })
}

export function rssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) / 1024
  } catch {
    return Number.NaN
  }
}

/** Samples a process's RSS every 100 ms; `stop` returns the highest seen. */
export function sampleRss(pid: number | undefined): { stop(): number } {
  let peak = rssMiB(pid)
  const timer = setInterval(() => {
    const rss = rssMiB(pid)
    if (rss > peak) peak = rss
  }, 100)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(peak, rssMiB(pid))
    },
  }
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** User + system CPU time a process has used so far (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTimeMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1000
  } catch {
    return Number.NaN
  }
}

/**
 * bench/baseline-server.ts as plain JavaScript, like the service's build: run through a TypeScript
 * loader, the loader's memory and start time would count against the baseline.
 */
export async function compileBaseline(): Promise<string> {
  const source = await readFile(path.join(PROJECT_ROOT, 'bench/baseline-server.ts'), 'utf8')
  const output = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
  })
  // Inside the project, so its imports resolve from the project's node_modules.
  const file = path.join(PROJECT_ROOT, 'dist/bench/baseline-server.js')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, output.outputText)
  return file
}
