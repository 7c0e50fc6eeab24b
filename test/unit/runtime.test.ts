import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

describe('the runtime the image ships', () => {
  it('when the Docker image names a Node version, then CI tests that same version', () => {
    const images = [...read('Dockerfile').matchAll(/^FROM node:(\S+?)-bookworm-slim/gm)].map((m) => m[1])
    const tested = /^IMAGE_NODE_VERSION=(\S+)$/m.exec(read('.ci/run'))?.[1]
    expect(images).toHaveLength(2)
    expect(new Set(images)).toEqual(new Set([tested]))
  })

  it('when package.json names the engines, then the image version satisfies them', () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } }
    const tested = /^IMAGE_NODE_VERSION=(\d+)\./m.exec(read('.ci/run'))?.[1]
    expect(engines.node).toContain(`>=${tested}`)
  })
})
