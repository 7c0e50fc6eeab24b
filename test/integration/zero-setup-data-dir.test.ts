import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fallbackDataDir, usableDataDir } from '../../src/db/embedded-postgres.js'
import { freePort } from '../../src/lib/net.js'
import { createTestDatabase } from '../helpers/database.js'
import { type ServiceProcess, spawnService, tempDataDir } from '../helpers/service-process.js'

/** Where the zero-setup mode keeps its state, and what it says when that place is wrong. */
describe('the zero-setup data directory', () => {
  let scratch: Awaited<ReturnType<typeof tempDataDir>>
  const started: ServiceProcess[] = []

  async function start(env: Record<string, string>) {
    const service = spawnService({ env: { PORT: String(await freePort()), ...env } })
    started.push(service)
    return service
  }

  beforeAll(async () => {
    scratch = await tempDataDir()
  })
  afterEach(() => {
    for (const service of started.splice(0)) service.kill()
  })
  afterAll(async () => {
    await scratch?.remove()
  })

  it('when DATA_DIR is a file, then the service stops at once with a message naming DATA_DIR', async () => {
    const file = path.join(scratch.path, 'a-file')
    await writeFile(file, 'not a directory')

    const service = await start({ DATA_DIR: file })

    const exit = await service.exitWithin(10_000)
    expect(exit, service.output()).toMatchObject({ code: 1 })
    expect(service.output()).toContain(`DATA_DIR: ${file} is a file, not a directory`)
  })

  it('when DATA_DIR cannot be created (/proc/nope), then the service stops at once with a message naming DATA_DIR', async () => {
    const service = await start({ DATA_DIR: '/proc/nope' })

    const exit = await service.exitWithin(10_000)
    expect(exit, service.output()).toMatchObject({ code: 1 })
    expect(service.output()).toContain('DATA_DIR: /proc/nope cannot be created')
  })

  it('when the zero-setup mode is asked for by name with DATABASE_URL set, then the start banner names it and no embedded PostgreSQL', async () => {
    const database = await createTestDatabase()
    try {
      const service = await start({
        SERVICE_MODE: 'zero-setup',
        DATABASE_URL: database.url,
        DATA_DIR: scratch.path,
      })
      await service.ready()

      const banner = service.logs().find((line) => String(line.msg).includes('zero-setup mode'))
      expect(banner?.msg).toContain('DATABASE_URL')
      expect(banner?.msg).not.toContain('embedded PostgreSQL')
      expect(service.logs().some((line) => line.msg === 'embedded PostgreSQL started')).toBe(false)
      service.proc.kill('SIGTERM')
      expect(await service.exitWithin(6_000)).toMatchObject({ code: 0 })
    } finally {
      await database.drop()
    }
  }, 60_000)

  // Only root hands the data to the postgres user, which may not be able to reach it.
  it.runIf(userInfo().uid === 0)(
    'when the postgres user cannot reach two checkouts’ data directories, then each gets a fallback of its own, named in the log and by the README’s recipe',
    async () => {
      const closed = path.join(scratch.path, 'closed')
      execFileSync('mkdir', ['-m', '700', closed])
      const warnings: string[] = []
      const log = { info() {}, debug() {}, warn: (_: object, msg: string) => warnings.push(msg) }
      const first = path.join(closed, 'checkout-a', '.data', 'postgres')
      const second = path.join(closed, 'checkout-b', '.data', 'postgres')

      const firstDir = await usableDataDir(first, log)
      const secondDir = await usableDataDir(second, log)

      expect(firstDir).not.toBe(secondDir)
      expect(firstDir).toBe(fallbackDataDir(first))
      expect(warnings[0]).toContain(first)
      expect(warnings[0]).toContain(firstDir)
      // The README's reset recipe names the same folder from the shell.
      const fromShell = execFileSync('sh', ['-c', `printf %s "$1" | sha256sum | cut -c1-16`, 'sh', first], {
        encoding: 'utf8',
      }).trim()
      expect(firstDir).toBe(path.join(path.dirname(firstDir), `caption-service-postgres-${fromShell}`))
    },
  )
})
