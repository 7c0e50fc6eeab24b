import { z } from 'zod'
import { closestName } from '../lib/closest-name.js'
import { type SimulatorFaults, simulatorFaultsSchema } from './faults.js'
import { createGoapiSimulator } from './simulator.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const FAULT_KEYS = Object.keys(simulatorFaultsSchema.shape) as (keyof SimulatorFaults)[]

/** `dropWebhookRate` -> `GOAPI_SIM_DROP_WEBHOOK_RATE`. */
function faultEnvName(fault: keyof SimulatorFaults): string {
  return `GOAPI_SIM_${fault.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`
}

// An empty variable means "unset"; anything unreadable is passed on so zod names the variable.
const unsetIfEmpty = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value

function readNumber(value: unknown): unknown {
  const raw = unsetIfEmpty(value)
  return typeof raw === 'string' && Number.isFinite(Number(raw)) ? Number(raw) : raw
}

function readBoolean(value: unknown): unknown {
  const raw = unsetIfEmpty(value)
  if (typeof raw !== 'string') return raw
  if (['true', '1', 'yes', 'on'].includes(raw.trim().toLowerCase())) return true
  if (['false', '0', 'no', 'off'].includes(raw.trim().toLowerCase())) return false
  return raw
}

const faultEnvShape = Object.fromEntries(
  FAULT_KEYS.map((key) => {
    const schema = simulatorFaultsSchema.shape[key]
    const read = schema instanceof z.ZodBoolean ? readBoolean : readNumber
    return [faultEnvName(key), z.preprocess(read, schema.optional())]
  }),
)

const envSchema = z.object({
  GOAPI_SIM_PORT: z.preprocess(readNumber, z.number().int().min(0).max(65535).default(8787)),
  GOAPI_SIM_HOST: z.preprocess(unsetIfEmpty, z.string().default('127.0.0.1')),
  GOAPI_SIM_API_KEY: z.preprocess(unsetIfEmpty, z.string().default('simulator')),
  GOAPI_SIM_LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS).default('info')),
  GOAPI_SIM_STATE_FILE: z.preprocess(unsetIfEmpty, z.string().optional()),
  ...faultEnvShape,
})
const KNOWN_NAMES = Object.keys(envSchema.shape)

interface SimulatorCliSettings {
  host: string
  port: number
  apiKey: string
  logLevel: (typeof LOG_LEVELS)[number]
  stateFile: string | undefined
  faults: Partial<SimulatorFaults>
}

/** A misspelled switch would otherwise be ignored and the simulator run without the fault asked for. */
function unknownNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('GOAPI_SIM_') && !KNOWN_NAMES.includes(name))
    .map((name) => {
      const closest = closestName(name, KNOWN_NAMES, 'GOAPI_SIM_')
      const hint = closest === undefined ? '' : ` (did you mean ${closest}?)`
      return `${name}: not a setting of the GoAPI simulator${hint}`
    })
}

/** Reads the settings, or lists every bad variable by name. */
function readSimulatorSettings(
  env: NodeJS.ProcessEnv,
): { ok: true; settings: SimulatorCliSettings } | { ok: false; errors: string[] } {
  const parsed = envSchema.safeParse(env)
  const errors = [
    ...unknownNames(env),
    ...(parsed.error?.issues ?? []).map((issue) => `${String(issue.path[0])}: ${issue.message}`),
  ]
  if (!parsed.success || errors.length > 0) return { ok: false, errors }
  const values = parsed.data as Record<string, unknown>
  const faults = Object.fromEntries(
    FAULT_KEYS.map((key) => [key, values[faultEnvName(key)]]).filter(([, value]) => value !== undefined),
  ) as Partial<SimulatorFaults>
  return {
    ok: true,
    settings: {
      host: parsed.data.GOAPI_SIM_HOST,
      port: parsed.data.GOAPI_SIM_PORT,
      apiKey: parsed.data.GOAPI_SIM_API_KEY,
      logLevel: parsed.data.GOAPI_SIM_LOG_LEVEL,
      stateFile: parsed.data.GOAPI_SIM_STATE_FILE,
      faults,
    },
  }
}

async function main() {
  const read = readSimulatorSettings(process.env)
  if (!read.ok) {
    console.error(
      `Invalid GoAPI simulator settings:\n${read.errors.map((error) => `  - ${error}`).join('\n')}\n` +
        `Known settings: ${KNOWN_NAMES.join(', ')}`,
    )
    process.exit(1)
  }
  const { host, port, apiKey, logLevel, stateFile, faults } = read.settings
  const simulator = createGoapiSimulator({ apiKey, faults, stateFile, logger: { level: logLevel } })
  const url = await simulator.listen({ host, port })
  const key = apiKey === 'simulator' ? 'x-api-key: simulator' : 'x-api-key from GOAPI_SIM_API_KEY'
  console.log(`GoAPI simulator listening on ${url} (${key}; faults: ${JSON.stringify(simulator.faults)})`)

  const stop = (signal: NodeJS.Signals) => {
    console.log(`GoAPI simulator: ${signal} received, closing`)
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('GoAPI simulator: close failed', error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main()
