import fastJson from 'fast-json-stringify'
import { type ZodType, z } from 'zod'

/**
 * Fastify's serializer compiler for zod response schemas: each schema becomes a JSON Schema once, at
 * start, and answers are written by fast-json-stringify's generated code instead of being validated
 * and stringified through zod on every request. Schema ids (`.meta({ id })`) are for the OpenAPI
 * document; here every schema is inlined, so no reference needs resolving.
 */
export function fastSerializerCompiler({ schema }: { schema: unknown }): (data: unknown) => string {
  const jsonSchema = z.toJSONSchema(schema as ZodType, {
    io: 'output',
    target: 'draft-7',
    metadata: z.registry(),
    unrepresentable: 'any',
  })
  return fastJson(jsonSchema as Parameters<typeof fastJson>[0])
}
