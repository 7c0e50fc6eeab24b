import { createRequire } from 'node:module'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'

/**
 * The OpenTelemetry SDK, loaded only when tracing is on. The exporters, the sampler
 * (`OTEL_TRACES_SAMPLER`) and the resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) read their
 * standard variables themselves; only the protocol is chosen here, since each has its own exporter.
 */
export function startSdk(env: Record<string, string | undefined>): {
  protocol: string
  shutdown(): Promise<void>
} {
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not supported (http/protobuf or http/json)`)
  const exporter = protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter()
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'caption-service' }))
    .merge(detectResources({ detectors: [envDetector] }))
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] })
  // The global context manager (AsyncLocalStorage) and the W3C traceparent propagator.
  provider.register()
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Every Fastify instance made from now on: one span per request, continuing its traceparent; none
      // for its hooks or its handler (the request's span times the handler already).
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        instrumentHandler: false,
      }),
      // Outgoing requests (GoAPI, callbacks) get a span and carry its traceparent.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Queries made inside a span (the loops' idle polling makes none); taking a pooled connection is no
      // span of its own.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
  })
  // pg was loaded with the service's modules, before this ran: patched in place through require, which
  // hands the same module objects back.
  const require = createRequire(import.meta.url)
  require('pg')
  require('pg-pool')
  return {
    protocol,
    shutdown: async () => {
      unregister()
      await provider.shutdown()
    },
  }
}
