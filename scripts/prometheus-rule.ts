/**
 * Writes the prometheus-operator component's PrometheusRule from the alert rules file
 * (`npm run monitoring:generate`), so deploy/monitoring/caption-service.rules.yaml stays the one
 * source of the alerts. test/unit/deploy-manifests fails when the committed PrometheusRule is not what
 * this would write.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Document, parseDocument } from 'yaml'

export const RULES_FILE = fileURLToPath(
  new URL('../deploy/monitoring/caption-service.rules.yaml', import.meta.url),
)
export const PROMETHEUS_RULE_FILE = fileURLToPath(
  new URL('../deploy/components/prometheus-operator/prometheusrule.yaml', import.meta.url),
)

const HEADER = [
  ' Written by `npm run monitoring:generate` from deploy/monitoring/caption-service.rules.yaml; do not',
  ' edit. The alerts, their meaning and what to do are in the README under "Metrics, dashboard and',
  ' alerts". Your Prometheus picks it up when its ruleSelector matches these labels (patch them).',
].join('\n')

/** The PrometheusRule holding the rules file's groups as they are, comments included. */
export function prometheusRuleYaml(rulesText: string): string {
  const rules = parseDocument(rulesText)
  if (rules.errors.length > 0) throw rules.errors[0]
  const groups = rules.get('groups', true)
  if (groups === undefined) throw new Error('the rules file has no groups')
  const rule = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'caption-service', labels: { 'app.kubernetes.io/name': 'caption-service' } },
    spec: {},
  })
  rule.setIn(['spec', 'groups'], groups)
  rule.commentBefore = HEADER
  return rule.toString({ lineWidth: 0 })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(PROMETHEUS_RULE_FILE, prometheusRuleYaml(await readFile(RULES_FILE, 'utf8')))
  console.log(`wrote ${PROMETHEUS_RULE_FILE}`)
}
