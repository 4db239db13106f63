// The logger gathers lines and writes them per 64 KiB or 200 ms. A process that ends before
// then must still print them: `process.exit` (a start-up failure, a crash) writes what is
// gathered, and warnings and errors go out at once, even if the process is then killed from
// another thread (the watchdog's `_exit`), which runs no exit hook.
import { expect, test } from 'bun:test'
import { join } from 'node:path'

const LOGGER = join(import.meta.dir, '../src/lib/logger.ts')

async function output(script: string) {
  const child = Bun.spawn(['bun', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)}\n${script}`], { stdout: 'pipe', stderr: 'pipe' })
  const text = await new Response(child.stdout).text()
  await child.exited
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line).msg)
}

test('lines gathered before process.exit are printed', async () => {
  expect(await output(`const log = createLogger('info'); log.info('first'); log.info('second'); process.exit(1)`)).toEqual(['first', 'second'])
})

test('a warning is out at once, with the lines before it, though the process dies with no exit hook', async () => {
  const lines = await output(
    `import { dlopen } from 'bun:ffi'\nconst log = createLogger('info'); log.info('before'); log.warn('stalled'); log.info('after')\ndlopen('libc.so.6', { _exit: { args: ['i32'], returns: 'void' } }).symbols._exit(70)`,
  )
  expect(lines).toEqual(['before', 'stalled'])
})
