import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authEnv, CALLERS, uniqueImageUrl } from '../helpers/callers.js'
import { startTestService, type TestService } from '../helpers/service.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLIENT_DIR = path.join(ROOT, 'clients', 'typescript')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

interface PackageJson {
  name: string
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as PackageJson

/** The environment for npm in another folder: without what `npm test` tells its own scripts about this one. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(name),
    ),
  )
}

/** The README's example, the one ```js block under "## Example". */
async function readmeExample(): Promise<string> {
  const readme = await readFile(path.join(CLIENT_DIR, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Example'))
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  if (code === undefined) throw new Error('clients/typescript/README.md has no js block under ## Example')
  return code
}

describe('the typed client as a package', () => {
  let service: TestService
  let workDir: string
  let consumerDir: string

  beforeAll(async () => {
    service = await startTestService({ env: authEnv(['alice']) })
    workDir = await mkdtemp(path.join(tmpdir(), 'caption-client-package-'))
    consumerDir = path.join(workDir, 'consumer')
    // `npm pack` builds dist/ first (prepack); the consumer installs the tarball, and openapi-fetch from
    // the npm cache or the registry, in a folder that knows nothing of this repository.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
      cwd: CLIENT_DIR,
      env: npmEnv(),
    })
    const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[]
    if (tarball === undefined) throw new Error(`npm pack made no tarball: ${packed.stdout}`)
    await mkdir(consumerDir)
    await writeFile(
      path.join(consumerDir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    )
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(workDir, path.basename(tarball.filename)),
      ],
      { cwd: consumerDir, env: npmEnv() },
    )
  }, 240_000)
  afterAll(async () => {
    await service?.close()
    if (workDir) await rm(workDir, { recursive: true, force: true })
  })

  it("when packed, then it ships the built module and its types, its version is the service's and openapi-fetch is its one dependency", async () => {
    const client = await readJson(path.join(CLIENT_DIR, 'package.json'))
    const service = await readJson(path.join(ROOT, 'package.json'))
    const installed = path.join(consumerDir, 'node_modules', ...client.name.split('/'))
    expect((await readJson(path.join(installed, 'package.json'))).version).toBe(service.version)
    expect(client.dependencies).toEqual({ 'openapi-fetch': service.devDependencies?.['openapi-fetch'] })
    expect((await readdir(installed)).sort()).toEqual(['README.md', 'dist', 'package.json'])
    expect((await readdir(path.join(installed, 'dist'))).sort()).toEqual([
      'client.d.ts',
      'client.js',
      'schema.d.ts',
      'schema.js',
    ])
  })

  it("when the README's example runs in the consumer's folder against a live service, then it prints the finished caption", async () => {
    await writeFile(path.join(consumerDir, 'example.mjs'), await readmeExample())
    const imageUrl = uniqueImageUrl('client-package')
    const { stdout } = await run(process.execPath, ['example.mjs', imageUrl], {
      cwd: consumerDir,
      env: { ...process.env, CAPTION_SERVICE_URL: service.baseUrl, CAPTION_SERVICE_TOKEN: CALLERS.alice },
      timeout: 60_000,
    })
    const listed = await service.app.inject({
      url: '/captions',
      headers: { authorization: `Bearer ${CALLERS.alice}` },
    })
    const [caption] = listed.json().items as { imageUrl: string; status: string; caption: string }[]
    expect(caption).toMatchObject({ imageUrl, status: 'completed' })
    expect(stdout.trim()).toBe(caption?.caption)
  }, 90_000)

  it("when the README's example is compiled as TypeScript against the installed package, then its types check", async () => {
    await writeFile(path.join(consumerDir, 'example.ts'), await readmeExample())
    const typeRoots = path.join(ROOT, 'node_modules', '@types')
    const compiled = run(
      process.execPath,
      [
        TSC,
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--typeRoots',
        typeRoots,
        '--types',
        'node',
        'example.ts',
      ],
      { cwd: consumerDir },
    )
    await expect(compiled).resolves.toBeDefined()
  }, 90_000)
})
