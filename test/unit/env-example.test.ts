import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configVariables } from '../../src/config.js'

describe('.env.example', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  const listed = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]))

  it('when the config schema gains a variable, then .env.example lists it too', () => {
    expect(configVariables.map((variable) => variable.name).filter((name) => !listed.has(name))).toEqual([])
  })

  it('when .env.example names a variable, then the service reads it', () => {
    const known = new Set(configVariables.map((variable) => variable.name))
    expect([...listed].filter((name) => name !== undefined && !known.has(name))).toEqual([])
  })
})

describe('defaults', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  const shown = new Map([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]))

  it.each(configVariables.filter((variable) => variable.default !== undefined))(
    'when $name has a default in the config schema, then .env.example shows that value',
    ({ name, default: value }) => {
      expect(shown.get(name)).toBe(value)
    },
  )
})
