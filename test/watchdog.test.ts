import { afterEach, expect, test } from 'bun:test'
import { STALLED_EXIT_CODE } from '../src/infra/watchdog'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))

const stalledLine = (lines: Record<string, unknown>[]) => lines.find((line) => line.msg === 'event loop stalled; ending the process')

test('a stalled event loop ends the whole process, non-zero, soon after the limit', async () => {
  const started = performance.now()
  const child = serverProcess({}, ['bun', 'test/support/stalling-process.ts', '500', 'stall'])
  cleanups.push(() => child.kill())
  expect(await child.exited()).toBe(STALLED_EXIT_CODE)
  // 200 ms before the stall, 500 ms of limit, at most a check interval more, plus bun's start.
  expect(performance.now() - started).toBeLessThan(5000)
  expect(stalledLine(child.logLines())).toMatchObject({ level: 'error', setting: 'WATCHDOG_STALL_MS', limit_ms: 500 })
})

test('a busy but turning event loop is never ended', async () => {
  const child = serverProcess({}, ['bun', 'test/support/stalling-process.ts', '300', 'busy'])
  cleanups.push(() => child.kill())
  expect(await child.exited()).toBe(0)
  expect(child.lines).toContain('done')
  expect(stalledLine(child.logLines())).toBeUndefined()
})

test('the server starts its watchdog: serving it lives; hung, it exits non-zero for the restart policy', async () => {
  const { dir, remove } = scratchDir()
  cleanups.push(remove)
  const server = serverProcess({ ...productionEnv(dir), WATCHDOG_STALL_MS: '1000' }, ['bun', '--preload', './test/support/stall-on-signal.ts', 'src/main.ts'])
  cleanups.push(() => server.kill())
  const url = await server.url()
  // Healthy for three limits' worth of time, answering all along.
  const until = performance.now() + 3000
  while (performance.now() < until) {
    expect((await fetch(`${url}/health`)).status).toBe(200)
    await Bun.sleep(100)
  }
  expect(server.proc.exitCode).toBeNull()

  server.kill('SIGUSR2')
  expect(await server.exited()).toBe(STALLED_EXIT_CODE)
  expect(stalledLine(server.logLines())).toMatchObject({ setting: 'WATCHDOG_STALL_MS', limit_ms: 1000 })
})
