import { networkInterfaces } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEV_CALLBACK_SIGNING_SECRET } from '../../src/config.js'
import { freePort } from '../../src/lib/net.js'
import {
  commandOf,
  isRunning,
  probe,
  type ServiceProcess,
  spawnService,
  tempDataDir,
} from '../helpers/service-process.js'

/**
 * The zero-setup mode as a newcomer runs it: nothing configured but a data directory of its own (so
 * it runs beside other copies) and a free port. The tests share one data directory, initialised once.
 */
describe('the zero-setup process', () => {
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>
  const started: ServiceProcess[] = []

  async function zeroSetup(options: { npmStart?: boolean; detached?: boolean } = {}) {
    const port = await freePort()
    const service = spawnService({
      env: { DATA_DIR: dataDir.path, PORT: String(port), SHUTDOWN_TIMEOUT_SECONDS: '5' },
      ...options,
    })
    started.push(service)
    return { service, port }
  }

  beforeAll(async () => {
    dataDir = await tempDataDir()
  })
  afterEach(async () => {
    for (const service of started.splice(0)) service.kill()
  })
  afterAll(async () => {
    await dataDir?.remove()
  })

  it('when it starts with nothing configured, then it listens on loopback only and its start log names the mode and what it started', async () => {
    const { service, port } = await zeroSetup()
    await service.ready()

    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4')
    if (external) expect(await probe(`http://${external.address}:${port}/healthz`)).toBe('refused')

    const lines = service.logs().map((line) => JSON.stringify(line))
    /** Some start line says all of these. */
    const said = (...parts: (string | RegExp)[]) =>
      lines.some((line) =>
        parts.every((part) => (typeof part === 'string' ? line.includes(part) : part.test(line))),
      )
    expect(said('zero-setup mode'), lines.join('\n')).toBe(true)
    expect(said('embedded PostgreSQL', path.join(dataDir.path, 'postgres'))).toBe(true)
    expect(said('SIMULATOR', /http:\/\/127\.0\.0\.1:\d+/)).toBe(true)
    expect(said('caller authentication is OFF')).toBe(true)
    expect(said('CALLBACK_SIGNING_SECRET is not set', DEV_CALLBACK_SIGNING_SECRET)).toBe(true)
    expect(said(`listening on http://127.0.0.1:${port}`, 'this machine only')).toBe(true)

    service.proc.kill('SIGTERM')
    expect(await service.exitWithin(5_000)).toMatchObject({ code: 0 })
    // The first start of the suite initialises the data directory, which takes a while on a busy machine.
  }, 90_000)

  it('when npm start gets SIGTERM, then the service and its PostgreSQL stop and the port is free', async () => {
    const { service, port } = await zeroSetup({ npmStart: true })
    await service.ready(90_000)
    const children = service.descendants()
    expect(children.map(commandOf).some((command) => command.includes('dist/server.js'))).toBe(true)
    expect(children.map(commandOf).some((command) => command.includes('postgres'))).toBe(true)

    service.proc.kill('SIGTERM')

    const exit = await service.exitWithin(6_000)
    expect(exit, service.output()).toBeDefined()
    expect(exit?.code).toBe(0)
    expect(await probe(`http://127.0.0.1:${port}/healthz`)).toBe('refused')
    const survivors = children.filter(isRunning)
    expect(survivors.map(commandOf), service.output()).toEqual([])

    // Nothing but the service's JSON log lines once it runs: no build tool's banner among them.
    const output = service.output()
    expect(output).not.toMatch(/Prisma schema loaded|Generated Prisma Client/)
    const fromFirstLogLine = output.slice(output.indexOf('{"level"')).split('\n').filter(Boolean)
    expect(fromFirstLogLine.filter((line) => !line.startsWith('{'))).toEqual([])
  }, 120_000)

  it('when Ctrl-C reaches the whole process group of npm start, then it gives the leases back before PostgreSQL stops and exits 0', async () => {
    // As a terminal runs it: npm, its shell's exec of node and nothing else in one foreground group.
    const { service } = await zeroSetup({ npmStart: true, detached: true })
    await service.ready(90_000)
    // A caption in motion, so background work holds leases when the signal comes.
    const posted = await fetch(`${service.baseUrl}/captions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageUrl: 'https://images.example.com/ctrl-c.png' }),
    })
    expect(posted.status).toBe(202)

    process.kill(-service.pid, 'SIGINT')

    const exit = await service.exitWithin(6_000)
    const output = service.output()
    expect(exit, output).toMatchObject({ code: 0 })
    expect(output).not.toMatch(/57P01|could not give leases back/)
    expect(service.logs().some((line) => line.msg === 'stopped')).toBe(true)
    expect(service.descendants().filter(isRunning).map(commandOf)).toEqual([])
  }, 120_000)

  it('when a second copy starts on the same data directory, then it exits non-zero with PostgreSQL’s reason', async () => {
    const first = await zeroSetup()
    await first.service.ready()

    const second = await zeroSetup()
    const exit = await second.service.exitWithin(30_000)

    expect(exit, second.service.output()).toBeDefined()
    expect(exit?.code).not.toBe(0)
    expect(second.service.output()).toMatch(/postmaster\.pid/)
    expect(second.service.output()).toMatch(/another postmaster/)
    // The first copy is untouched.
    expect(await probe(`${first.service.baseUrl}/readyz`)).toBe(200)
    first.service.proc.kill('SIGTERM')
    expect(await first.service.exitWithin(6_000)).toMatchObject({ code: 0 })
  }, 60_000)

  it('when the service was killed with SIGKILL, then the next start stops the PostgreSQL it left behind, says so, and runs', async () => {
    const first = await zeroSetup()
    await first.service.ready()
    const leftBehind = first.service.descendants().filter((pid) => commandOf(pid).includes('postgres'))
    first.service.proc.kill('SIGKILL')
    expect(await first.service.exitWithin(5_000)).toMatchObject({ signal: 'SIGKILL' })
    expect(leftBehind.filter(isRunning).length).toBeGreaterThan(0)

    const second = await zeroSetup()
    await second.service.ready()

    const said = second.service.logs().map((line) => String(line.msg))
    expect(
      said.some((msg) => msg.includes('left by a service that is gone')),
      said.join('\n'),
    ).toBe(true)
    expect(said).toContain('the leftover embedded PostgreSQL stopped')
    expect(leftBehind.filter(isRunning).map(commandOf)).toEqual([])
    second.service.proc.kill('SIGTERM')
    expect(await second.service.exitWithin(6_000)).toMatchObject({ code: 0 })
  }, 90_000)
})
