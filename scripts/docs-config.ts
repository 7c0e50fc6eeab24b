/**
 * Writes the README's configuration table from the config schema (`npm run docs:config`), between the
 * two marker lines, so the table says what `src/config.ts` reads and defaults. test/unit/readme-config
 * fails when the README's table is not what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { configVariables } from '../src/config.js'

export const README = fileURLToPath(new URL('../README.md', import.meta.url))
export const START =
  '<!-- config:start — written by `npm run docs:config` from src/config.ts; do not edit -->'
export const END = '<!-- config:end -->'

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

/** The table of every variable the service reads: name, value when unset, meaning. */
export function configTable(): string {
  const rows = configVariables.map(
    ({ name, default: value, description }) =>
      `| \`${name}\` | ${value === undefined ? '—' : `\`${cell(value)}\``} | ${cell(description)} |`,
  )
  return ['| variable | when unset | meaning |', '|---|---|---|', ...rows].join('\n')
}

/** The README with the text between the markers replaced by the current table. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md needs the lines ${START} and ${END}`)
  return `${readme.slice(0, start + START.length)}\n${configTable()}\n${readme.slice(end)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(README, withConfigTable(await readFile(README, 'utf8')))
  console.log(`wrote the configuration table in ${README}`)
}
