import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'

describe('the embedded PostgreSQL', () => {
  it('when started with settings, then the server runs with them (the bench sizes shared_buffers so)', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'caption-settings-'))
    // Under root the server runs as the postgres user, which must be able to enter this directory.
    await chmod(root, 0o755)
    const quiet = { info() {}, debug() {}, warn() {} }
    const server = await startEmbeddedPostgres({
      dataDir: path.join(root, 'pg'),
      log: quiet,
      persistent: false,
      settings: { shared_buffers: '48MB', work_mem: '5MB' },
    })
    const client = new pg.Client({ connectionString: server.url })
    try {
      await client.connect()
      const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0]?.[name]
      expect(await show('shared_buffers')).toBe('48MB')
      expect(await show('work_mem')).toBe('5MB')
    } finally {
      await client.end()
      await server.stop()
      await rm(root, { recursive: true, force: true })
    }
  })
})
