/**
 * Whether traces are on: only when an OTLP endpoint is given (the standard `OTEL_*` variables, read by
 * the OpenTelemetry SDK itself). Kept apart from the SDK so that deciding costs no import.
 */
export function tracingWanted(env: Record<string, string | undefined>): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}

let active = false

/** Set once the SDK runs in this process. */
export function tracingActive(): boolean {
  return active
}

export function markTracingActive(on: boolean): void {
  active = on
}
