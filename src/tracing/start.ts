import { markTracingActive, tracingWanted } from './switch.js'

export interface Tracing {
  protocol: string
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>
}

/**
 * Starts OpenTelemetry when an OTLP endpoint is set; before the app and the database pool are made, so
 * that their requests and queries are traced. Off, nothing of the SDK is loaded.
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  if (!tracingWanted(env)) return undefined
  const { startSdk } = await import('./sdk.js')
  const tracing = startSdk(env)
  markTracingActive(true)
  return tracing
}
