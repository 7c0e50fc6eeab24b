import { createServer } from 'node:net'

/**
 * A TCP port free on loopback right now (the kernel picks it), other than `avoid`: ports another part
 * of the process is about to listen on, which look free until it does.
 */
export async function freePort(avoid: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await kernelPort()
    if (!avoid.includes(port)) return port
  }
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}
