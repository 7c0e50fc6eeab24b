import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as errors from '../../src/api/error-catalog.js'
import { errorResponses } from '../../src/api/error-responses.js'

/** The catalog's @fastify/error constructors: each makes an error with a code and a status. */
const catalogErrors = Object.entries(errors).flatMap(([name, value]) => {
  if (typeof value !== 'function' || !('prototype' in value)) return []
  try {
    const made = new (value as new (...args: string[]) => { code?: unknown; statusCode?: unknown })('x', 'y')
    return typeof made.code === 'string' && typeof made.statusCode === 'number'
      ? [{ name, code: made.code.toLowerCase(), status: made.statusCode }]
      : []
  } catch {
    return []
  }
})

describe('the request error catalog', () => {
  it('when the catalog makes an error, then REQUEST_ERRORS lists its code with the same status', () => {
    expect(catalogErrors.length).toBeGreaterThan(5)
    for (const { name, code, status } of catalogErrors) {
      expect(errors.REQUEST_ERRORS[code as errors.RequestErrorCode]?.status, name).toBe(status)
    }
  })

  it('when the one handler answers with a code of its own, then REQUEST_ERRORS lists it with that status', () => {
    const source = ['api/error-handler.ts', 'app.ts']
      .map((file) => readFileSync(new URL(`../../src/${file}`, import.meta.url), 'utf8'))
      .join('\n')
    const answered = [...source.matchAll(/errorBody\(\s*(\d{3}),\s*'(\w+)'/g)]
    expect(answered.length).toBeGreaterThan(5)
    for (const [, status, code] of answered) {
      expect(errors.REQUEST_ERRORS[code as errors.RequestErrorCode]?.status, code).toBe(Number(status))
    }
  })

  it('when a route lists its error codes, then each status is the Error shape described by those codes', () => {
    const responses = errorResponses('not_found', 'validation_failed', 'invalid_cursor')
    expect(Object.keys(responses)).toEqual(['400', '404', '500'])
    const description = (status: number) => responses[status]?.meta()?.description
    expect(description(400)).toContain('`validation_failed`')
    expect(description(400)).toContain('`invalid_cursor`')
    expect(description(404)).toContain('`not_found`')
    expect(description(500)).toContain('`internal_error`')
  })
})
