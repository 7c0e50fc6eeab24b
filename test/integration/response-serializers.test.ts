import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileSerializer, handedSchemas } from '../../src/lib/fast-serializer.js'
import { startTestService, type TestService } from '../helpers/service.js'

// Response serializers are compiled at a route's first answer, not at start: here every schema the service
// hands Fastify is compiled, so one that does not compile fails a test rather than a caller's request.

let service: TestService

beforeAll(async () => {
  service = await startTestService()
})
afterAll(async () => {
  await service.close()
})

describe('response serializers', () => {
  it('compile for every response schema of every route', () => {
    const schemas = handedSchemas()
    // Every route's answers and errors: far more than any one test reaches.
    expect(schemas.length).toBeGreaterThan(100)
    for (const schema of schemas) expect(() => compileSerializer(schema)).not.toThrow()
  })
})
