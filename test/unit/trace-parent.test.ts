import { trace } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { parseTraceParent, traceParentToKeep, withStoredTrace } from '../../src/tracing/spans.js'
import { tracingWanted } from '../../src/tracing/switch.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN_ID = '00f067aa0ba902b7'

describe('the traceparent a caption keeps', () => {
  it('when the header is well formed, then its trace, span and flags are read', () => {
    expect(parseTraceParent(`00-${TRACE_ID}-${SPAN_ID}-01`)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
    })
  })

  it.each([
    ['empty', ''],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['an unknown version', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['trailing data', `00-${TRACE_ID}-${SPAN_ID}-01-extra`],
  ])('when the header is %s, then it is not kept', (_, header) => {
    expect(parseTraceParent(header)).toBeUndefined()
    expect(traceParentToKeep(header)).toBeNull()
  })

  it('when tracing is off and a caller sends a traceparent, then that header is kept as it came', () => {
    expect(traceParentToKeep(`00-${TRACE_ID}-${SPAN_ID}-00`)).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`)
    expect(traceParentToKeep(undefined)).toBeNull()
    expect(traceParentToKeep(['a', 'b'])).toBeNull()
  })

  it('when tracing is off, then work runs with no span around it', async () => {
    const seen = await withStoredTrace('x', `00-${TRACE_ID}-${SPAN_ID}-01`, {}, async () =>
      trace.getActiveSpan(),
    )
    expect(seen).toBeUndefined()
  })

  it('when neither OTLP endpoint variable is set (or one is empty), then tracing is off', () => {
    expect(tracingWanted({})).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'x' })).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    )
  })
})
