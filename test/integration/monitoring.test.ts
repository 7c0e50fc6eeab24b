import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createWorker } from '../../src/work/worker.js'
import { type CallbackReceiver, startCallbackReceiver } from '../helpers/callback-receiver.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

const MONITORING = new URL('../../deploy/monitoring/', import.meta.url)

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[]
}
interface RulesFile {
  groups: {
    rules: { alert: string; expr: string; annotations: { summary: string; description: string } }[]
  }[]
}

const dashboard = JSON.parse(
  readFileSync(new URL('caption-service.dashboard.json', MONITORING), 'utf8'),
) as Dashboard
const rules = parse(readFileSync(new URL('caption-service.rules.yaml', MONITORING), 'utf8')) as RulesFile
const alerts = rules.groups.flatMap((group) => group.rules)
const scaledObject = parse(
  readFileSync(new URL('../components/keda/scaledobject.yaml', MONITORING), 'utf8'),
) as { spec: { triggers: { metadata: { query: string } }[] } }

/** The metric families a PromQL expression reads (a histogram's series named by their family). */
function familiesIn(expr: string): string[] {
  const names = expr.match(/\b(?:caption|process|nodejs)_[a-z_]+\b/g) ?? []
  return names.map((name) => name.replace(/_(bucket|sum|count)$/, ''))
}

describe('deploy/monitoring: the dashboard and the alerts', () => {
  let service: TestService
  let receiver: CallbackReceiver
  let scraped: string

  beforeAll(async () => {
    receiver = await startCallbackReceiver()
    service = await startTestService()
    const worker = createWorker(service.deps)
    worker.start()
    try {
      // A flow touching every path: a caption with a callback, finished by GoAPI's webhook, called back.
      const posted = await service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: {
          imageUrl: `https://images.example.com/monitoring/${randomUUID()}.png`,
          callbackUrl: receiver.urlFor('m'),
        },
      })
      expect(posted.statusCode).toBe(202)
      await eventually(async () => (receiver.received('m').length > 0 ? true : undefined))
      await service.app.inject({ method: 'POST', url: '/webhooks/goapi', payload: { forged: true } })
    } finally {
      await worker.stop(1_000)
    }
    scraped = (await service.app.inject({ method: 'GET', url: '/metrics' })).body
  })
  afterAll(async () => {
    await service?.simulator.close()
    await service?.close()
    await receiver?.close()
  })

  const queries = [
    ...dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => [`panel "${panel.title}"`, target.expr]),
    ),
    ...alerts.map((alert) => [`alert ${alert.alert}`, alert.expr]),
    ...scaledObject.spec.triggers.map((trigger) => ['the KEDA trigger', trigger.metadata.query]),
  ] as [string, string][]

  it.each(queries)(
    'when %s is evaluated, then every metric it reads is on /metrics with a value after a flow',
    (_where, expr) => {
      const families = familiesIn(expr)
      expect(families.length).toBeGreaterThan(0)
      for (const family of families) {
        expect(scraped).toMatch(new RegExp(`^# TYPE ${family} `, 'm'))
        // Not only declared: the flow gave it a value.
        expect(scraped).toMatch(new RegExp(`^${family}(_bucket|_count|_sum)?[{ ]`, 'm'))
      }
    },
  )

  it('when the alerts are read, then each has a summary and says what to do', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(4)
    for (const alert of alerts) {
      expect(alert.annotations.summary).not.toBe('')
      expect(alert.annotations.description.length).toBeGreaterThan(20)
    }
  })
})
