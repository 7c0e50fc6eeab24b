import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm'
import { parseIntoClientConfig } from 'pg-connection-string'
import { MIGRATIONS_DIR, migrationNames, PRISMA_DIR, SCHEMA_FILE } from './migration-files.js'

/**
 * Prisma's schema engine, the part behind `prisma migrate`, run from its WebAssembly build so migrations
 * work where Prisma's native engine binary cannot be downloaded. It writes the standard
 * `_prisma_migrations` table, so the stock Prisma CLI can take over wherever it runs.
 */

export { MIGRATIONS_DIR, PRISMA_DIR, SCHEMA_FILE }

const FILTERS = { externalTables: [], externalEnums: [] }

// The few WebAssembly globals used here (Node has them; its type package does not declare them).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}

let wasmReady: Promise<void> | undefined
let lastPanic: string | undefined

async function loadWasm(): Promise<typeof import('@prisma/schema-engine-wasm/schema_engine_bg')> {
  const bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg')
  wasmReady ??= (async () => {
    // The engine reports a Rust panic through this global before throwing; keep the message for the error.
    ;(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: object }).PRISMA_WASM_PANIC_REGISTRY = {
      set_message: (message: string) => {
        lastPanic = message
      },
    }
    // The package's main entry imports the .wasm file as a module, which Node rejects; load it by hand.
    const require = createRequire(import.meta.url)
    const packageDir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'))
    const bytes = await readFile(path.join(packageDir, 'schema_engine_bg.wasm'))
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      './schema_engine_bg.js': withUnrefTimers(bindings),
    })
    bindings.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
  })()
  await wasmReady
  return bindings
}

/** The engine arms 10-second timers it never clears; unref'd, they do not keep a finished process alive. */
function withUnrefTimers(bindings: object): object {
  const imports: Record<string, unknown> = { ...bindings }
  for (const [name, fn] of Object.entries(imports)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
      imports[name] = (...args: unknown[]) => {
        const timer = fn(...args) as NodeJS.Timeout
        timer.unref?.()
        return timer
      }
    }
  }
  return imports
}

/**
 * The pg adapter runs a migration script by splitting it on every `;`, which cuts a function body
 * (`$$ … ; … $$`) apart. PostgreSQL takes a whole script in one simple query and runs it as one
 * implicit transaction, so the script goes whole.
 */
class WholeScriptPg extends PrismaPg {
  override async connect(): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect()
    const pool = adapter.underlyingDriver()
    adapter.executeScript = async (script: string) => {
      try {
        await pool.query(script)
      } catch (error) {
        ;(adapter as unknown as { onError(error: unknown): never }).onError(error)
      }
    }
    return adapter
  }
}

export async function withSchemaEngine<T>(
  databaseUrl: string,
  run: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const bindings = await loadWasm()
  const schema = await readFile(SCHEMA_FILE, 'utf8')
  // The engine never closes its pool: idle connections go quickly and do not hold the process open.
  const adapter = bindMigrationAwareSqlAdapterFactory(
    new WholeScriptPg({
      ...parseIntoClientConfig(databaseUrl),
      idleTimeoutMillis: 500,
      allowExitOnIdle: true,
    }),
  )
  const engine = await bindings.SchemaEngine.new({ datamodels: [[SCHEMA_FILE, schema]] }, () => {}, adapter)
  try {
    return await run(engine)
  } catch (error) {
    if (lastPanic === undefined) throw error
    throw new Error(`Prisma schema engine failed: ${lastPanic}`, { cause: error })
  } finally {
    lastPanic = undefined
    engine.free()
  }
}

/** The committed migrations, read the way `prisma migrate` reads them. */
export async function readMigrations(): Promise<MigrationList> {
  const directories = await migrationNames()
  const lockfilePath = path.join(MIGRATIONS_DIR, 'migration_lock.toml')
  return {
    baseDir: MIGRATIONS_DIR,
    lockfile: {
      path: 'migration_lock.toml',
      content: await readFile(lockfilePath, 'utf8').catch(() => null),
    },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      directories.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
    ),
  }
}

/** What `prisma migrate deploy` does: applies every committed migration the database lacks. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const migrationsList = await readMigrations()
  return withSchemaEngine(databaseUrl, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList, filters: FILTERS })
    return result.appliedMigrationNames
  })
}

/**
 * The SQL that takes a database from the `from` schema to the `to` schema (what `prisma migrate diff
 * --script` prints), computed from the two schema texts alone: no shadow database, nothing changed.
 */
export async function diffSchemas(
  databaseUrl: string,
  from: string | undefined,
  to: string,
): Promise<string> {
  // The engine connects on start, although a diff of two schema texts reads nothing from the database.
  return withSchemaEngine(databaseUrl, async (engine) => {
    const result = await engine.diff({
      from:
        from === undefined
          ? { tag: 'empty' }
          : { tag: 'schemaDatamodel', files: [{ path: SCHEMA_FILE, content: from }] },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_FILE, content: to }] },
      script: true,
      exitCode: null,
      filters: FILTERS,
    })
    return result.stdout ?? ''
  })
}
