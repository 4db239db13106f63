/**
 * Polls until `check` stops throwing (then returns its value), for effects that land
 * asynchronously (a webhook, a pub/sub message). The deadline only bounds a failing test;
 * nothing asserts how long it took.
 */
export async function eventually<T>(check: () => T | Promise<T>, deadlineMs = 10_000): Promise<T> {
  const until = Date.now() + deadlineMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > until) throw error
      await Bun.sleep(10)
    }
  }
}
