import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configTable, END, README, START, withConfigTable } from '../../scripts/docs-config.js'
import { configVariables } from '../../src/config.js'

describe("the README's configuration table", () => {
  const readme = readFileSync(README, 'utf8')
  const table = readme.slice(readme.indexOf(START) + START.length, readme.indexOf(END)).trim()
  const named = [...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1])

  it('when the config schema changes, then the README table says the same (else run npm run docs:config)', () => {
    expect(readme).toContain(START)
    expect(table).toBe(configTable())
    expect(withConfigTable(readme)).toBe(readme)
  })

  it('when the README names a variable, then the service reads it and .env.example lists it', () => {
    const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    expect(named).toEqual(configVariables.map((variable) => variable.name))
    for (const name of named) expect(envExample, name).toMatch(new RegExp(`^#?\\s*${name}=`, 'm'))
  })
})
