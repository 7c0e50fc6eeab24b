import { expect } from 'vitest'

/** The parts of a reply (from `app.inject` or a real request) the error checks read. */
export interface ReplyLike {
  statusCode: number
  headers: Record<string, unknown>
  json(): unknown
}

export interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: string
  details: { field: string; message: string }[]
}

/** The keys of every error body, in every error, none missing and none more. */
export const ERROR_KEYS = ['code', 'details', 'error', 'message', 'statusCode']

/**
 * Checks the service's one error shape `{ statusCode, error, message, code, details }` with the given
 * status (and `code`, when given), and returns the body for further checks. `details` is empty unless
 * the error is about fields, as a validation error always is.
 */
export function expectErrorReply(reply: ReplyLike, statusCode: number, code?: string): ErrorBody {
  expect(reply.statusCode).toBe(statusCode)
  expect(String(reply.headers['content-type'])).toMatch(/^application\/json/)
  const body = reply.json() as ErrorBody
  expect(Object.keys(body).sort()).toEqual(ERROR_KEYS)
  expect(body).toMatchObject({
    statusCode,
    error: expect.stringMatching(/\S/),
    message: expect.stringMatching(/\S/),
    code: expect.stringMatching(/^[a-z][a-z0-9_]*$/),
  })
  if (code !== undefined) expect(body.code).toBe(code)
  expect(Array.isArray(body.details)).toBe(true)
  if (body.code === 'validation_failed') expect(body.details.length).toBeGreaterThan(0)
  for (const detail of body.details) {
    expect(detail).toEqual({ field: expect.any(String), message: expect.stringMatching(/\S/) })
  }
  return body
}

/** A 400 whose message names `field`: the contract for validation errors. */
export function expectValidationError(reply: ReplyLike, field: string): ErrorBody {
  const body = expectErrorReply(reply, 400)
  expect(body.message).toContain(field)
  return body
}
