import fastJson from 'fast-json-stringify'
import { type ZodType, z } from 'zod'

/**
 * Fastify's serializer compiler for zod response schemas: answers are written by fast-json-stringify's
 * generated code instead of being validated and stringified through zod on every request.
 *
 * Fastify asks for a serializer for every route and status at start (over 250, most of them error
 * answers that are rarely sent); each is compiled at its first answer instead, once per schema. Compiling
 * them all at start cost every replica about 10 MiB of memory it kept idle, and startup time.
 * test/integration/response-serializers.test.ts compiles every schema the service hands over, so a schema that does
 * not compile still fails the tests rather than a first answer.
 */
export function fastSerializerCompiler({ schema }: { schema: unknown }): (data: unknown) => string {
  handed.add(schema)
  let write: ((data: unknown) => string) | undefined
  return (data) => {
    write ??= compiledOnce(schema as object)
    return write(data)
  }
}

/** One serializer per schema, however many routes and statuses share it. */
function compiledOnce(schema: object): (data: unknown) => string {
  let write = compiled.get(schema)
  if (write === undefined) {
    write = compileSerializer(schema)
    compiled.set(schema, write)
  }
  return write
}

const handed = new Set<unknown>()
const compiled = new WeakMap<object, (data: unknown) => string>()

/** The response schemas handed to `fastSerializerCompiler` so far, by every app built in this process. */
export function handedSchemas(): unknown[] {
  return [...handed]
}

/**
 * A zod schema's serializer: the schema becomes a JSON Schema, then fast-json-stringify's code. Schema
 * ids (`.meta({ id })`) are for the OpenAPI document; here every schema is inlined, so no reference
 * needs resolving.
 */
export function compileSerializer(schema: unknown): (data: unknown) => string {
  const jsonSchema = z.toJSONSchema(schema as ZodType, {
    io: 'output',
    target: 'draft-7',
    metadata: z.registry(),
    unrepresentable: 'any',
  })
  return fastJson(withNullableTypes(jsonSchema) as Parameters<typeof fastJson>[0])
}

type Schema = Record<string, unknown>

/**
 * zod writes `.nullable()` as `anyOf: [X, { type: "null" }]`, which fast-json-stringify can only
 * resolve by validating each answer against X at run time; `type: [X's type, "null"]` says the same
 * and is decided by a type check. Rewritten in place, throughout the schema.
 */
export function withNullableTypes<T>(schema: T): T {
  const pending: unknown[] = [schema]
  while (pending.length > 0) {
    const node = pending.pop()
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      pending.push(...node)
      continue
    }
    const record = node as Schema
    const anyOf = record.anyOf
    if (Array.isArray(anyOf) && anyOf.length === 2) {
      const nullIndex = anyOf.findIndex((branch) => (branch as Schema)?.type === 'null')
      const other = anyOf[1 - nullIndex] as Schema | undefined
      if (nullIndex !== -1 && other && typeof other.type === 'string' && other.anyOf === undefined) {
        delete record.anyOf
        Object.assign(record, other, { type: [other.type, 'null'] })
        if (Array.isArray(record.enum)) record.enum = [...record.enum, null]
      }
    }
    pending.push(...Object.values(record))
  }
  return schema
}
