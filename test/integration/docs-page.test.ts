import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authEnv } from '../helpers/callers.js'
import { startTestService, type TestService } from '../helpers/service.js'

/** Debian's chromium package (`.ci/run` installs it when missing). */
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url))
// Flags that keep Chromium to the page it is given: no sandbox (CI runs as root), and none of the
// background connections it would otherwise try on a machine with no way out.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

describe('the /docs page in a real browser', () => {
  let service: TestService
  let browser: Browser | undefined

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
    service = await startTestService({ env: authEnv(['alice']) })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await service?.close()
  })

  it('when /docs is opened without a caller token, then it renders every caption route from the service alone', async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 1600 } })
    const elsewhere: string[] = []
    // The page must work offline: anything it asks of another origin is refused and remembered.
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(service.baseUrl)) return route.continue()
      elsewhere.push(url)
      return route.abort()
    })
    const page = await context.newPage()
    const failures: string[] = []
    page.on('pageerror', (error) => failures.push(error.message))
    try {
      const answer = await page.goto(`${service.baseUrl}/docs`, { timeout: 15_000 })
      expect(answer?.status()).toBe(200)
      const operations = page.locator('.opblock-summary')
      await operations.filter({ hasText: '/captions/{id}' }).first().waitFor({ timeout: 15_000 })
      const rendered = await operations.allInnerTexts()
      const routes = rendered.map((text) => text.split('\n').slice(0, 2).join(' '))
      for (const expected of [
        'POST /captions',
        'GET /captions',
        'GET /captions/{id}',
        'POST /webhooks/goapi',
      ]) {
        expect(
          routes.some((route) => route.replace(/\u200b/g, '').startsWith(expected)),
          expected,
        ).toBe(true)
      }
      await page.getByText('Caption an image').first().waitFor({ timeout: 5_000 })
      await mkdir(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: `${ARTIFACTS}docs.png`, fullPage: true, timeout: 10_000 })
    } finally {
      await context.close()
    }
    expect(failures).toEqual([])
    expect(elsewhere).toEqual([])
    // The page is open; the API behind it still asks for a caller token.
    expect((await service.app.inject({ url: '/captions' })).statusCode).toBe(401)
  }, 60_000)
})
