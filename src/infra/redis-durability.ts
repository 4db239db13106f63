import type Redis from 'ioredis'
import type { Logger } from '../lib/logger'
import { StartupError } from '../lib/startup-error'

/**
 * `REDIS_DURABILITY`. A flash-sale entry answered 202 lives only in Redis until the allocator
 * decides it, so it survives a Redis crash only if Redis wrote it to disk before answering:
 * `appendonly yes` with `appendfsync always`. `require`: refuse to start on a Redis that says
 * otherwise or will not say (CONFIG GET refused, as managed services often do); `warn` (the
 * default): start, with a warning line; `off`: do not ask (a provider that guarantees it).
 */
export type RedisDurability = 'require' | 'warn' | 'off'

/** What Redis says about its persistence: durable, not durable (why), or unknown (why). */
export async function inspectDurability(redis: Redis): Promise<{ durable: boolean | undefined; detail: string }> {
  let reply: string[]
  try {
    reply = (await redis.call('CONFIG', 'GET', 'appendonly', 'appendfsync')) as string[]
  } catch (error) {
    return { durable: undefined, detail: `CONFIG GET refused (${String(error).slice(0, 120)})` }
  }
  const settings = new Map<string, string>()
  for (let i = 0; i < reply.length; i += 2) settings.set(reply[i]!, reply[i + 1]!)
  const appendonly = settings.get('appendonly')
  const appendfsync = settings.get('appendfsync')
  const detail = `appendonly ${appendonly ?? '?'}, appendfsync ${appendfsync ?? '?'}`
  return { durable: appendonly === 'yes' && appendfsync === 'always', detail }
}

const FIX = 'set appendonly yes and appendfsync always on the Redis (or a managed Redis with durable writes), then REDIS_DURABILITY=require'

/** Start-up step: warns about, or refuses, a Redis that may lose accepted flash-sale entries in a crash. */
export async function checkDurability(redis: Redis, mode: RedisDurability, logger: Logger) {
  if (mode === 'off') return
  const { durable, detail } = await inspectDurability(redis)
  if (durable) return
  const problem = `${durable === false ? 'Redis is not durable' : 'cannot tell whether Redis is durable'} (${detail}): flash-sale entries answered 202 would be lost if Redis crashed before the allocator decided them`
  if (mode === 'require') throw new StartupError([{ setting: 'REDIS_DURABILITY', problem: `${problem}; ${FIX}` }])
  logger.warn('redis durability', { setting: 'REDIS_DURABILITY', problem, fix: FIX })
}
