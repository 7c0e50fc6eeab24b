import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1'
import type {
  IPrometheusRule,
  IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import type { IDeployment } from 'kubernetes-models/apps/v1'
import * as appsV1 from 'kubernetes-models/apps/v1'
import type { IJob } from 'kubernetes-models/batch/v1'
import * as batchV1 from 'kubernetes-models/batch/v1'
import type { IIngress, INetworkPolicy, INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1'
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1'
import * as policyV1 from 'kubernetes-models/policy/v1'
import type { IConfigMap, IContainer, IPodSpec, ISecret, IService } from 'kubernetes-models/v1'
import * as coreV1 from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { PROMETHEUS_RULE_FILE, prometheusRuleYaml, RULES_FILE } from '../../scripts/prometheus-rule.js'
import { ConfigError, configVariables, loadConfig } from '../../src/config.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DEPLOY_DIR = path.join(ROOT, 'deploy')
const BASE_DIR = path.join(DEPLOY_DIR, 'base')
const OVERLAY_DIR = path.join(DEPLOY_DIR, 'overlays', 'example')
const PROMETHEUS_OPERATOR_DIR = path.join(DEPLOY_DIR, 'components', 'prometheus-operator')
const KEDA_DIR = path.join(DEPLOY_DIR, 'components', 'keda')

/** The public contract: GoAPI posts here, and it is the only path the public hostname serves. */
const WEBHOOK_PATH = '/webhooks/goapi'
/** The uid of the `node` user in the official Node images the Dockerfile builds on. */
const NODE_USER_UID = 1000
/** The variables that are credentials, kept out of the ConfigMap. */
const SECRET_VARIABLES = [
  'DATABASE_URL',
  'GOAPI_API_KEY',
  'WEBHOOK_SECRET',
  'API_TOKENS',
  'CALLBACK_SIGNING_SECRET',
  'METRICS_TOKEN',
]
/** Credentials the service runs without (METRICS_TOKEN: /metrics is then left to the NetworkPolicy). */
const OPTIONAL_SECRETS = ['METRICS_TOKEN']
/** Well-formed values for the Secret, standing in for the ones an operator puts there. */
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgresql://caption:pw@db.internal:5432/captions',
  GOAPI_API_KEY: 'goapi-key-0123456789',
  WEBHOOK_SECRET: 'webhook-key-0123456789abcdef',
  API_TOKENS: 'orders:orders-token-0123456789',
  CALLBACK_SIGNING_SECRET: `whsec_${Buffer.from('callback-signing-key-0123456789').toString('base64')}`,
  METRICS_TOKEN: 'metrics-token-0123456789',
}

// One module per API group the manifests use; a new group is added here.
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  'monitoring.coreos.com/v1': monitoringV1,
  'keda.sh/v1alpha1': kedaV1alpha1,
}

interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  [field: string]: unknown
}

interface PatchEntry {
  path?: string
  patch?: string
  target?: { kind?: string; name?: string }
}

interface Kustomization {
  kind?: string
  resources?: string[]
  patches?: PatchEntry[]
  namespace?: string
  images?: { name: string; newName?: string; newTag?: string }[]
  replicas?: { name: string; count: number }[]
  configMapGenerator?: { name: string; files?: string[] }[]
  replacements?: Replacement[]
}

interface FieldOptions {
  delimiter?: string
  index?: number
}

interface Replacement {
  source: { kind: string; name: string; fieldPath: string; options?: FieldOptions }
  targets: { select: { kind: string; name: string }; fieldPaths: string[]; options?: FieldOptions }[]
}

function readYaml(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'))
  const list = Array.isArray(documents) ? documents : [documents]
  for (const document of list) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`)
  }
  return list.map((document) => document.toJS()).filter((value) => value !== null && value !== undefined)
}

function readKustomization(dir: string): Kustomization {
  return parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization
}

/** The objects a kustomization's own resource files hold (directories, i.e. bases, are not followed). */
function resourceObjects(dir: string): KubeObject[] {
  return (readKustomization(dir).resources ?? [])
    .filter((entry) => /\.ya?ml$/.test(entry))
    .flatMap((entry) => readYaml(path.join(dir, entry)) as KubeObject[])
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return yamlFilesUnder(full)
    return /\.ya?ml$/.test(entry.name) ? [full] : []
  })
}

function validate(object: KubeObject): void {
  const group = MODELS[object.apiVersion]
  if (group === undefined) throw new Error(`no model for apiVersion ${object.apiVersion}: add its group`)
  const Model = group[object.kind] as (new (data: unknown) => { validate(): void }) | undefined
  if (Model === undefined) throw new Error(`no model for ${object.apiVersion} ${object.kind}`)
  new Model(object).validate()
}

function findObject<T>(objects: KubeObject[], kind: string, name?: string): T & KubeObject {
  const matches = objects.filter(
    (object) => object.kind === kind && (name === undefined || object.metadata.name === name),
  )
  if (matches.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${matches.length}`)
  return matches[0] as T & KubeObject
}

// Just enough of kustomize's patching for the example overlay and the components: a strategic merge
// patch merges maps, replaces lists, or with `$patch: delete` removes its target; a JSON 6902 patch may
// add, replace and remove.
function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key]
    if (isMap(current) && isMap(value)) mergeInto(current, value)
    else target[key] = structuredClone(value)
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function applyOperation(target: unknown, operation: { op: string; path: string; value?: unknown }): void {
  const keys = operation.path.split('/').slice(1)
  const last = keys.pop()
  let parent = target as Record<string, unknown>
  for (const key of keys) parent = parent[key] as Record<string, unknown>
  if (parent === undefined || last === undefined) throw new Error(`${operation.path} does not exist`)
  if (operation.op !== 'add' && !(last in parent)) throw new Error(`${operation.path} does not exist`)
  if (operation.op === 'remove') delete parent[last]
  else if (operation.op === 'replace' || operation.op === 'add')
    parent[last] = structuredClone(operation.value)
  else throw new Error(`unsupported op ${operation.op}`)
}

/** A kustomize field path (`spec.containers.[name=app].image`): the map holding the field, and its key. */
function fieldAt(object: KubeObject, fieldPath: string): { parent: Record<string, unknown>; key: string } {
  const segments = fieldPath.split('.')
  const key = segments.pop() as string
  let parent: unknown = object
  for (const segment of segments) {
    const select = /^\[(.+)=(.+)\]$/.exec(segment)
    parent = select
      ? (parent as Record<string, unknown>[]).find((item) => item[select[1] as string] === select[2])
      : (parent as Record<string, unknown>)[segment]
    if (parent === undefined) throw new Error(`${fieldPath} does not exist in ${object.metadata.name}`)
  }
  return { parent: parent as Record<string, unknown>, key }
}

// kustomize's `images` entry: the containers whose image has that name get the new name and tag.
function applyImages(objects: KubeObject[], images: Kustomization['images']): void {
  for (const object of objects) {
    const spec = (object.spec as { template?: { spec?: IPodSpec } } | undefined)?.template?.spec
    for (const each of spec?.containers ?? []) {
      const image = images?.find((entry) => entry.name === each.image?.replace(/(@.*|:[^/:]*)$/, ''))
      if (image) each.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}`
    }
  }
}

// kustomize's `replacements` (after its images, as kustomize orders them), with the delimiter option:
// a source field's part copied into a target field's part, appended when the target has no such part.
function applyReplacements(objects: KubeObject[], replacements: Replacement[] = []): void {
  const byIdentity = (kind: string, name: string) => {
    const found = objects.find((object) => object.kind === kind && object.metadata.name === name)
    if (found === undefined) throw new Error(`replacement: no ${kind} ${name}`)
    return found
  }
  for (const { source, targets } of replacements) {
    const from = fieldAt(byIdentity(source.kind, source.name), source.fieldPath)
    let value = String(from.parent[from.key])
    if (source.options?.delimiter)
      value = value.split(source.options.delimiter)[source.options.index ?? 0] ?? ''
    for (const target of targets) {
      const object = byIdentity(target.select.kind, target.select.name)
      for (const fieldPath of target.fieldPaths) {
        const to = fieldAt(object, fieldPath)
        const { delimiter, index = 0 } = target.options ?? {}
        if (!delimiter) {
          to.parent[to.key] = value
          continue
        }
        const parts = String(to.parent[to.key]).split(delimiter)
        if (index < 0) parts.unshift(value)
        else if (index >= parts.length) parts.push(value)
        else parts[index] = value
        to.parent[to.key] = parts.join(delimiter)
      }
    }
  }
}

/** The base's objects and the overlay's own, with the overlay's patches, images and replacements applied. */
function applyOverlay(
  baseObjects: KubeObject[],
  dir: string,
  kustomization: Kustomization = readKustomization(dir),
): KubeObject[] {
  const objects = [...structuredClone(baseObjects), ...resourceObjects(dir)]
  for (const entry of kustomization.patches ?? []) {
    const body = parse(entry.path ? readFileSync(path.join(dir, entry.path), 'utf8') : (entry.patch ?? '')) as
      | KubeObject
      | { op: string; path: string; value?: unknown }[]
    const kind = entry.target?.kind ?? (Array.isArray(body) ? undefined : body.kind)
    const name = entry.target?.name ?? (Array.isArray(body) ? undefined : body.metadata?.name)
    const target = objects.find((object) => object.kind === kind && object.metadata.name === name)
    if (target === undefined)
      throw new Error(`patch ${entry.path ?? '(inline)'}: no ${kind} ${name} in the base`)
    if (Array.isArray(body)) for (const operation of body) applyOperation(target, operation)
    else if (body.$patch === 'delete') objects.splice(objects.indexOf(target), 1)
    else mergeInto(target, body)
  }
  applyImages(objects, kustomization.images)
  applyReplacements(objects, kustomization.replacements)
  return objects
}

function podSpecOf(workload: IDeployment | IJob): IPodSpec {
  const spec = workload.spec?.template.spec
  if (spec === undefined) throw new Error(`${workload.metadata?.name} has no pod spec`)
  return spec
}

function onlyContainer(spec: IPodSpec): IContainer {
  expect(spec.containers).toHaveLength(1)
  return spec.containers[0] as IContainer
}

/** A named container port to its number. */
function portNumber(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port !== 'string') return port
  return container.ports?.find((entry) => entry.name === port)?.containerPort
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value)
}

/** The environment the pods get from the ConfigMap, with real-looking credentials in place of the Secret. */
function podEnvironment(objects: KubeObject[]): Record<string, string> {
  return { ...findObject<IConfigMap>(objects, 'ConfigMap').data, ...SECRET_STAND_INS }
}

const baseObjects = resourceObjects(BASE_DIR)
const overlayObjects = applyOverlay(baseObjects, OVERLAY_DIR)
const prometheusOperatorObjects = applyOverlay(baseObjects, PROMETHEUS_OPERATOR_DIR)
const kedaObjects = applyOverlay(baseObjects, KEDA_DIR)
const deployment = findObject<IDeployment>(baseObjects, 'Deployment')
const job = findObject<IJob>(baseObjects, 'Job')
const podSpec = podSpecOf(deployment)
const container = onlyContainer(podSpec)
const configMap = findObject<IConfigMap>(baseObjects, 'ConfigMap')
const secret = findObject<ISecret>(baseObjects, 'Secret')

describe('deploy/ kustomizations', () => {
  const kustomizationDirs = [...new Set(yamlFilesUnder(DEPLOY_DIR).map((file) => path.dirname(file)))]

  it('when a folder under deploy/ holds YAML, then it is a kustomization', () => {
    expect(kustomizationDirs.filter((dir) => !existsSync(path.join(dir, 'kustomization.yaml')))).toEqual([])
    expect(kustomizationDirs.map((dir) => path.relative(DEPLOY_DIR, dir)).sort()).toEqual([
      'base',
      path.join('components', 'keda'),
      path.join('components', 'prometheus-operator'),
      'monitoring',
      path.join('overlays', 'example'),
    ])
  })

  it.each(kustomizationDirs.map((dir) => [path.relative(DEPLOY_DIR, dir), dir]))(
    'when %s/ holds a YAML file, then its kustomization.yaml lists it, and lists nothing missing',
    (_name, dir) => {
      const kustomization = readKustomization(dir)
      const listed = [
        ...(kustomization.resources ?? []),
        ...(kustomization.patches ?? []).flatMap((entry) => (entry.path ? [entry.path] : [])),
        ...(kustomization.configMapGenerator ?? []).flatMap((entry) => entry.files ?? []),
      ]
      const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
      expect(files.filter((name) => !listed.includes(name))).toEqual([])
      expect(listed.filter((entry) => !existsSync(path.join(dir, entry)))).toEqual([])
    },
  )

  it('when any YAML file under deploy/ is parsed, then it is well-formed', () => {
    for (const file of yamlFilesUnder(DEPLOY_DIR)) expect(() => readYaml(file), file).not.toThrow()
  })
})

describe.each([
  ['the base', baseObjects],
  ['the example overlay', overlayObjects],
  ['the base with the prometheus-operator component', prometheusOperatorObjects],
  ['the base with the KEDA component', kedaObjects],
])('Kubernetes objects of %s', (_name, objects) => {
  it.each(objects.map((object) => [`${object.kind} ${object.metadata.name}`, object]))(
    'when %s is checked against the Kubernetes API schema, then it is valid',
    (_label, object) => {
      expect(() => validate(object)).not.toThrow()
    },
  )

  it('when GoAPI is told PUBLIC_BASE_URL, then the Ingress serves that host over TLS', () => {
    const host = new URL(loadConfig(podEnvironment(objects)).publicBaseUrl)
    const ingress = findObject<IIngress>(objects, 'Ingress')
    expect(host.protocol).toBe('https:')
    expect(ingress.spec?.rules?.map((rule) => rule.host)).toEqual([host.hostname])
    expect(ingress.spec?.tls?.flatMap((tls) => tls.hosts)).toContain(host.hostname)
  })

  it('when the ConfigMap is loaded with real credentials, then the service starts in real mode', () => {
    expect(loadConfig(podEnvironment(objects)).mode).toBe('real')
  })
})

describe('the Deployment', () => {
  it('when probed, then liveness asks /healthz and readiness /readyz on the port the service listens on', () => {
    const defaultPort = loadConfig({}).port
    const port = container.ports?.find((entry) => entry.name === 'http')?.containerPort
    expect(port).toBe(defaultPort)
    expect(loadConfig(podEnvironment(baseObjects)).port).toBe(port)
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz')
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz')
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      if (probe === undefined) continue
      expect(portNumber(container, probe.httpGet?.port)).toBe(port)
    }
    if (container.startupProbe) expect(container.startupProbe.httpGet?.path).toBe('/healthz')
  })

  it('when the pod is stopped, then the grace period outlasts the preStop pause plus the shutdown timeout', () => {
    const preStopSeconds = container.lifecycle?.preStop?.sleep?.seconds
    const shutdownSeconds = loadConfig(podEnvironment(baseObjects)).shutdownTimeoutMs / 1000
    const grace = podSpec.terminationGracePeriodSeconds
    expect(preStopSeconds).toBeGreaterThan(0)
    expect(grace).toBeGreaterThan((preStopSeconds ?? 0) + shutdownSeconds)
  })

  it('when the container starts, then it runs the image command as the node user', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1])
    expect(users.at(-1)).toBe('node')
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/server\.js"\]$/m)
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${container.ports?.[0]?.containerPort}$`, 'm'))
    expect(container.command).toBeUndefined()
    expect(container.args).toBeUndefined()
  })

  it('when the service needs its settings, then it gets every one from the ConfigMap and the Secret', () => {
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ])
    const known = new Set(configVariables.map((variable) => variable.name))
    expect((container.env ?? []).filter((entry) => known.has(entry.name))).toEqual([])
  })

  it('when its pods are labelled, then the Service, the PDB and the NetworkPolicy select them and the Service not the Job', () => {
    const podLabels = deployment.spec?.template.metadata?.labels
    const jobLabels = job.spec?.template.metadata?.labels
    const service = findObject<IService>(baseObjects, 'Service')
    const budget = findObject<IPodDisruptionBudget>(baseObjects, 'PodDisruptionBudget')
    const policy = findObject<INetworkPolicy>(baseObjects, 'NetworkPolicy')
    expect(selects(deployment.spec?.selector.matchLabels, podLabels)).toBe(true)
    expect(selects(service.spec?.selector, podLabels)).toBe(true)
    expect(selects(service.spec?.selector, jobLabels)).toBe(false)
    expect(selects(deployment.spec?.selector.matchLabels, jobLabels)).toBe(false)
    expect(selects(budget.spec?.selector?.matchLabels, podLabels)).toBe(true)
    expect(budget.spec?.minAvailable).toBe(1)
    expect(selects(policy.spec?.podSelector.matchLabels, podLabels)).toBe(true)
    expect(selects(policy.spec?.podSelector.matchLabels, jobLabels)).toBe(true)
    const servicePort = service.spec?.ports?.[0]
    expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP')
    expect(servicePort?.port).toBe(80)
    expect(portNumber(container, servicePort?.targetPort)).toBe(loadConfig({}).port)
  })
})

describe.each([
  ['the Deployment', podSpec],
  ['the migration Job', podSpecOf(job)],
])('the pods of %s', (_name, spec) => {
  it('when they run, then they run unprivileged as uid 1000 on a read-only root with a writable /tmp', () => {
    const pod = spec.securityContext ?? {}
    for (const each of spec.containers) {
      const own = each.securityContext ?? {}
      expect(own.runAsUser ?? pod.runAsUser).toBe(NODE_USER_UID)
      expect(own.runAsNonRoot ?? pod.runAsNonRoot).toBe(true)
      expect((own.seccompProfile ?? pod.seccompProfile)?.type).toBe('RuntimeDefault')
      expect(own.readOnlyRootFilesystem).toBe(true)
      expect(own.allowPrivilegeEscalation).toBe(false)
      expect(own.capabilities?.drop).toEqual(['ALL'])
      const tmp = each.volumeMounts?.find((mount) => mount.mountPath === '/tmp')
      expect(spec.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined()
    }
    expect(spec.automountServiceAccountToken).toBe(false)
  })
})

describe('the migration Job', () => {
  const migrate = onlyContainer(podSpecOf(job))

  it('when it runs, then it applies the migrations with the CLI the image ships, on the same image', () => {
    const argv = [...(migrate.command ?? []), ...(migrate.args ?? [])]
    expect(argv).toEqual(['node', 'dist/cli/migrate.js', 'deploy'])
    const source = argv[1]?.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts') ?? ''
    expect(existsSync(path.join(ROOT, source)), source).toBe(true)
    expect(migrate.image).toBe(container.image)
    expect(job.spec?.backoffLimit).toBeGreaterThan(0)
    expect(job.spec?.ttlSecondsAfterFinished).toBeGreaterThan(0)
  })

  it('when it connects, then DATABASE_URL comes from the Secret', () => {
    expect(migrate.env).toEqual([
      {
        name: 'DATABASE_URL',
        valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'DATABASE_URL' } },
      },
    ])
  })
})

describe('the ConfigMap and the Secret', () => {
  const configNames = Object.keys(configMap.data ?? {})
  const secretNames = Object.keys(secret.stringData ?? {})

  it('when the config schema gains or loses a variable, then the manifests name exactly its variables, once each', () => {
    const expected = configVariables.map((variable) => variable.name).sort()
    expect([...configNames, ...secretNames].sort()).toEqual(expected)
  })

  it('when a variable is a credential, then it is in the Secret and not in the ConfigMap', () => {
    expect(secretNames.sort()).toEqual([...SECRET_VARIABLES].sort())
    expect(secret.data).toBeUndefined()
  })

  it('when the example Secret is deployed unchanged, then the service refuses to start and names what to fill in', () => {
    // An optional credential is left empty (unset); every required one is a placeholder the service refuses.
    for (const [name, value] of Object.entries(secret.stringData ?? {}))
      expect(value, name).toMatch(OPTIONAL_SECRETS.includes(name) ? /^$/ : /replace me/i)
    let refusal: unknown
    try {
      loadConfig({ ...configMap.data, ...secret.stringData })
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(ConfigError)
    const named = (refusal as ConfigError).issues.map((issue) => issue.split(':')[0])
    expect(named).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'WEBHOOK_SECRET', 'API_TOKENS', 'CALLBACK_SIGNING_SECRET']),
    )
  })
})

describe('the Ingress', () => {
  it('when the public hostname is reached, then only the GoAPI webhook path leads to the service', () => {
    const ingress = findObject<IIngress>(baseObjects, 'Ingress')
    const service = findObject<IService>(baseObjects, 'Service')
    const paths = ingress.spec?.rules?.flatMap((rule) => rule.http?.paths ?? []) ?? []
    expect(paths.map((entry) => [entry.path, entry.pathType])).toEqual([[WEBHOOK_PATH, 'Exact']])
    expect(paths[0]?.backend.service?.name).toBe(service.metadata.name)
    expect(ingress.spec?.defaultBackend).toBeUndefined()
    expect(ingress.spec?.tls?.length).toBeGreaterThan(0)
  })
})

const NAMESPACE_NAME = 'kubernetes.io/metadata.name'

/** The namespaces a NetworkPolicy peer's namespaceSelector names; undefined when it names none (any). */
function namedNamespaces(selector: INetworkPolicyPeer['namespaceSelector']): string[] | undefined {
  const byLabel = selector?.matchLabels?.[NAMESPACE_NAME]
  const byExpression = (selector?.matchExpressions ?? []).find(
    (expression) => expression.key === NAMESPACE_NAME && expression.operator === 'In',
  )?.values
  if (byLabel !== undefined) return [byLabel]
  return byExpression && byExpression.length > 0 ? byExpression : undefined
}

describe.each([
  ['the base', baseObjects],
  ['the example overlay', overlayObjects],
])('the NetworkPolicy of %s', (_, objects) => {
  const policy = findObject<INetworkPolicy>(objects, 'NetworkPolicy')
  const peers = (policy.spec?.ingress ?? []).flatMap((rule) => rule.from ?? [])

  it('when a peer reaches across namespaces, then it names them: a pod in any namespace cannot label itself in', () => {
    for (const peer of peers) {
      if (peer.namespaceSelector === undefined) continue
      expect(namedNamespaces(peer.namespaceSelector), JSON.stringify(peer)).toBeDefined()
    }
  })

  it("when callers elsewhere are admitted by their label, then only in named namespaces, Prometheus's among them", () => {
    const labelled = peers.filter(
      (peer) => peer.podSelector?.matchLabels?.['caption-service/client'] === 'true',
    )
    expect(labelled).toHaveLength(1)
    expect(namedNamespaces(labelled[0]?.namespaceSelector)).toContain('monitoring')
  })
})

describe('the example overlay', () => {
  const overlay = readKustomization(OVERLAY_DIR)

  it('when its callers live in other namespaces, then its NetworkPolicy names them', () => {
    const peers = (findObject<INetworkPolicy>(overlayObjects, 'NetworkPolicy').spec?.ingress ?? []).flatMap(
      (rule) => rule.from ?? [],
    )
    const named = peers.flatMap((peer) => namedNamespaces(peer.namespaceSelector) ?? [])
    expect(named).toEqual(expect.arrayContaining(['monitoring', 'orders', 'catalog']))
  })

  it('when built, then it builds on the base and names only images and Deployments the base has', () => {
    expect(overlay.resources).toContain('../../base')
    expect(overlay.namespace).toBeTruthy()
    const images = [podSpec, podSpecOf(job)].flatMap((spec) =>
      spec.containers.map((entry) => entry.image?.replace(/(@.*|:[^/:]*)$/, '')),
    )
    for (const image of overlay.images ?? []) expect(images).toContain(image.name)
    expect(overlay.images?.length).toBeGreaterThan(0)
    expect(overlay.replicas).toEqual([{ name: deployment.metadata.name, count: 3 }])
  })

  it('when each release is applied, then it gets a migration Job of its own, so no finished Job is deleted by hand first', () => {
    const release = (tag: string) =>
      applyOverlay(baseObjects, OVERLAY_DIR, {
        ...overlay,
        images: overlay.images?.map((image) => ({ ...image, newTag: tag })),
      })
    const [current, next] = [release('0.1.0'), release('0.2.0')]
    const jobOf = (objects: KubeObject[]) => findObject<IJob>(objects, 'Job')
    expect(jobOf(current).metadata.name).toBe(`${job.metadata.name}-0.1.0`)
    expect(jobOf(next).metadata.name).toBe(`${job.metadata.name}-0.2.0`)
    // The Job runs the image the Deployment runs, and the Deployment keeps its name.
    for (const objects of [current, next]) {
      const image = onlyContainer(podSpecOf(findObject<IDeployment>(objects, 'Deployment'))).image
      expect(onlyContainer(podSpecOf(jobOf(objects))).image).toBe(image)
      expect(findObject<IDeployment>(objects, 'Deployment').metadata.name).toBe(deployment.metadata.name)
    }
    // A valid Job name that also fits the job-name label its pods get; past releases' Jobs expire.
    const name = jobOf(overlayObjects).metadata.name
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    expect(name.length).toBeLessThanOrEqual(63)
    expect(jobOf(overlayObjects).spec?.ttlSecondsAfterFinished).toBeGreaterThan(0)
  })

  it('when the manifests use the preStop sleep action, then the README names the Kubernetes version it needs', () => {
    expect(container.lifecycle?.preStop?.sleep).toBeDefined()
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toMatch(/Kubernetes 1\.30 or later/)
  })

  it('when applied, then it carries no Secret, so the real one is never overwritten by the example', () => {
    expect(overlayObjects.filter((object) => object.kind === 'Secret')).toEqual([])
  })

  it('when its patches are applied, then each finds its target and sets the public URL and callback hosts', () => {
    const before = loadConfig(podEnvironment(baseObjects))
    const after = loadConfig(podEnvironment(overlayObjects))
    expect(after.publicBaseUrl).not.toBe(before.publicBaseUrl)
    expect(after.callbackAllowedHosts.length).toBeGreaterThan(0)
  })
})

describe('the prometheus-operator component', () => {
  const monitor = findObject<IServiceMonitor>(prometheusOperatorObjects, 'ServiceMonitor')
  const rule = findObject<IPrometheusRule>(prometheusOperatorObjects, 'PrometheusRule')
  const service = findObject<IService>(baseObjects, 'Service')

  it('when added to an overlay, then it is a kustomize Component', () => {
    expect(readKustomization(PROMETHEUS_OPERATOR_DIR).kind).toBe('Component')
  })

  it('when Prometheus scrapes, then the ServiceMonitor selects the Service and asks /metrics on its port', () => {
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true)
    expect(monitor.spec.namespaceSelector).toBeUndefined()
    const ports = service.spec?.ports?.map((port) => port.name)
    expect(monitor.spec.endpoints?.map((endpoint) => [endpoint.port, endpoint.path])).toEqual([
      [ports?.[0], '/metrics'],
    ])
  })

  it('when the alerts are read, then the PrometheusRule holds exactly the groups of the rules file', () => {
    const rulesText = readFileSync(RULES_FILE, 'utf8')
    expect(rule.spec.groups).toEqual((parse(rulesText) as { groups: unknown }).groups)
    expect(rule.spec.groups?.flatMap((group) => group.rules).length).toBeGreaterThan(0)
    // Regenerate with `npm run monitoring:generate` after editing the rules file.
    expect(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')).toBe(prometheusRuleYaml(rulesText))
  })
})

describe('the KEDA component', () => {
  const scaler = findObject<IScaledObject>(kedaObjects, 'ScaledObject')
  const budget = findObject<IPodDisruptionBudget>(baseObjects, 'PodDisruptionBudget')

  it('when added to an overlay, then it is a kustomize Component that leaves the replica count to KEDA', () => {
    expect(readKustomization(KEDA_DIR).kind).toBe('Component')
    expect(findObject<IDeployment>(kedaObjects, 'Deployment').spec?.replicas).toBeUndefined()
  })

  it('when it scales, then it scales the Deployment and never below what node drains need', () => {
    expect(scaler.spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: deployment.metadata.name,
    })
    expect(scaler.spec.minReplicaCount).toBeGreaterThan(Number(budget.spec?.minAvailable))
    expect(scaler.spec.maxReplicaCount).toBeGreaterThan(scaler.spec.minReplicaCount ?? 0)
  })

  it('when it reads the backlog, then its Prometheus trigger queries the due work the service exports, once per database', () => {
    const triggers = scaler.spec.triggers.map((trigger) => [trigger.type, trigger.metricType])
    expect(triggers).toEqual([['prometheus', 'AverageValue']])
    const { query, threshold, serverAddress } = (scaler.spec.triggers[0]?.metadata ?? {}) as Record<
      string,
      string
    >
    expect(new URL(serverAddress ?? '').protocol).toMatch(/^https?:$/)
    expect(Number(threshold)).toBeGreaterThan(0)
    // Every replica reports the same database-wide gauge: a sum over replicas would count it N times.
    expect(query).toMatch(/max by \(kind\) \(caption_work_due\{/)
    expect(query).not.toMatch(/slot/)
  })
})
