import type Redis from 'ioredis'
import type { EnterResult, FlashSaleQueue, QueuedEntry, QueuedEntryView, QueuedStatus } from './port'

const GROUP = 'allocator'
/**
 * One consumer name for every instance: the lease decides which process plays it, and a
 * successor replays the predecessor's pending entries with a plain `XREADGROUP … 0`.
 */
const CONSUMER = 'allocator'

/** Every key of a drop shares its `{id}` hash tag, so a Redis Cluster keeps them on one slot. */
const keysOf = (dropId: string) => {
  const base = `fs:{${dropId}}:`
  return { gate: base + 'gate', entries: base + 'entries', results: base + 'results', seq: base + 'seq', stream: base + 'stream', acked: base + 'acked', lease: base + 'lease' }
}

/**
 * The entry, in one round trip. `#!lua` (Redis 7 flags) makes an out-of-memory server refuse
 * the whole script before it runs, so a seq is never taken without its stream entry: seqs
 * stay contiguous, which the allocator checks. Stream ids are `<seq>-0`.
 * KEYS: gate, entries, results, seq, stream. ARGV: user, entry id, now (ms).
 */
const ENTER = `#!lua
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {'repeat', existing, redis.call('HGET', KEYS[3], ARGV[1]) or 'queued'} end
local gate = redis.call('HMGET', KEYS[1], 'state', 'opens_at', 'closes_at', 'capacity')
local now = tonumber(ARGV[3])
if gate[1] ~= 'open' or now < tonumber(gate[2]) or now >= tonumber(gate[3]) then return {'not_open'} end
local seq = tonumber(redis.call('GET', KEYS[4]) or '0') + 1
if seq > tonumber(gate[4]) then return {'sold_out'} end
redis.call('XADD', KEYS[5], seq .. '-0', 'entry', ARGV[2], 'user', ARGV[1], 'at', ARGV[3])
redis.call('SET', KEYS[4], seq)
local entry = ARGV[2] .. ' ' .. seq .. ' ' .. ARGV[3]
redis.call('HSET', KEYS[2], ARGV[1], entry)
return {'accepted', entry}
`

/**
 * KEYS: gate, stream, seq. ARGV: opens_at, closes_at, capacity, decided seq. A closed drop
 * stays closed; a seq below what SQL decided means the data was lost: no entry until restored.
 */
const OPEN = `#!lua
if redis.call('HGET', KEYS[1], 'state') == 'closed' then return 'closed' end
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'state', 'restoring')
  return 'behind'
end
redis.call('HSET', KEYS[1], 'state', 'open', 'opens_at', ARGV[1], 'closes_at', ARGV[2], 'capacity', ARGV[3])
redis.pcall('XGROUP', 'CREATE', KEYS[2], '${GROUP}', '0', 'MKSTREAM')
return 'open'
`

/** KEYS: entries, results, seq. ARGV: (user, stored entry, status, seq) per entry. A customer already known is kept. */
const RESTORE = `#!lua
local top = tonumber(redis.call('GET', KEYS[3]) or '0')
for i = 1, #ARGV, 4 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2]) end
  top = math.max(top, tonumber(ARGV[i + 3]))
end
redis.call('SET', KEYS[3], top)
return top
`

/**
 * KEYS: results, stream, acked. ARGV: n, then n (user, status) pairs, then the n stream ids.
 * Publishes the results and acknowledges; `acked` counts only what XACK really took off the
 * pending list, so a retried settle, or one of entries from before a data loss, counts nothing.
 * One HSET and one XACK per 200 entries (a call per entry was most of the script's time),
 * in chunks so no call takes more arguments than Lua's `unpack` allows.
 */
const SETTLE = `#!lua
local n = tonumber(ARGV[1])
local acked = 0
for first = 1, n, 200 do
  local last = math.min(first + 199, n)
  local results, ids = {}, {}
  for i = first, last do
    results[#results + 1] = ARGV[2 * i]
    results[#results + 1] = ARGV[2 * i + 1]
    ids[#ids + 1] = ARGV[2 * n + 1 + i]
  end
  redis.call('HSET', KEYS[1], unpack(results))
  acked = acked + redis.call('XACK', KEYS[2], '${GROUP}', unpack(ids))
end
redis.call('INCRBY', KEYS[3], acked)
return acked
`

/** Entries per RESTORE call: a drop may hold 200,000 (the model's bounds); one script would block Redis. */
const RESTORE_CHUNK = 1000

/**
 * The allocator's step. KEYS: lease, stream. ARGV: owner, ttl ms, count. Takes a free or
 * lapsed lease, or renews one's own (nil for another's), then returns the consumer's pending
 * entries (`XREADGROUP … 0`) and, if fewer than count, new ones (`… >`): lower ids are always
 * delivered first, so the list is in seq order. A script never blocks: idle waits are `wait`'s.
 */
const TAKE = `#!lua
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return nil end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local count = tonumber(ARGV[3])
local entries = redis.call('XREADGROUP', 'GROUP', '${GROUP}', '${CONSUMER}', 'COUNT', count, 'STREAMS', KEYS[2], '0')[1][2]
if #entries < count then
  local fresh = redis.call('XREADGROUP', 'GROUP', '${GROUP}', '${CONSUMER}', 'COUNT', count - #entries, 'STREAMS', KEYS[2], '>')
  if fresh then
    for _, entry in ipairs(fresh[1][2]) do entries[#entries + 1] = entry end
  end
end
return entries
`

const UNLEASE = `#!lua
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`

type StreamEntries = [id: string, fields: string[] | null][]

function parseEntries(entries: StreamEntries): QueuedEntry[] {
  const out: QueuedEntry[] = []
  for (const [id, fields] of entries) {
    if (!fields) continue
    const value: Record<string, string> = {}
    for (let i = 0; i < fields.length; i += 2) value[fields[i]!] = fields[i + 1]!
    out.push({ id, entryId: value.entry!, userId: value.user!, seq: Number(id.split('-')[0]), at: Number(value.at) })
  }
  return out
}

const parseView = (stored: string, status: string): QueuedEntryView => {
  const [entryId, seq, at] = stored.split(' ')
  return { entryId: entryId!, seq: Number(seq), at: Number(at), status: status as QueuedStatus }
}

/**
 * Redis Streams: `commands` serves the hot path (auto-pipelined); `consumer` is the
 * allocator's own connection, because a blocking XREADGROUP stalls everything behind it, and
 * so that its steps do not queue behind a stampede's entries pipelined on `commands`.
 */
export function redisQueue(commands: Redis, consumer: Redis): FlashSaleQueue {
  // EVALSHA with a fallback to EVAL: the script text crosses the wire once per connection.
  const scripts = { ENTER, OPEN, RESTORE, SETTLE, TAKE, UNLEASE }
  for (const connection of [commands, consumer]) for (const [name, lua] of Object.entries(scripts)) connection.defineCommand(`flashSale${name}`, { lua })
  const run = (script: keyof typeof scripts, keys: string[], args: (string | number)[], connection = commands) =>
    (connection as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[`flashSale${script}`]!(keys.length, ...keys, ...args)

  return {
    async enter(dropId, userId, entryId, now): Promise<EnterResult> {
      const k = keysOf(dropId)
      const [kind, stored, status] = (await run('ENTER', [k.gate, k.entries, k.results, k.seq, k.stream], [userId, entryId, now])) as [string, string?, string?]
      if (kind === 'accepted') return { kind, entry: parseView(stored!, 'queued') }
      if (kind === 'repeat') return { kind, entry: parseView(stored!, status!) }
      return { kind: kind as 'not_open' | 'sold_out' }
    },
    async entryOf(dropId, userId) {
      const k = keysOf(dropId)
      const [stored, status] = await Promise.all([commands.hget(k.entries, userId), commands.hget(k.results, userId)])
      return stored ? parseView(stored, status ?? 'queued') : null
    },
    async openDrop({ id, opensAt, closesAt, capacity, decidedSeq }) {
      const k = keysOf(id)
      return (await run('OPEN', [k.gate, k.stream, k.seq], [opensAt, closesAt, capacity, decidedSeq])) as 'open' | 'closed' | 'behind'
    },
    async restore(dropId, entries) {
      const k = keysOf(dropId)
      for (let i = 0; i < entries.length; i += RESTORE_CHUNK) {
        const args = entries.slice(i, i + RESTORE_CHUNK).flatMap((e) => [e.userId, `${e.entryId} ${e.seq} ${e.at}`, e.status, e.seq])
        await run('RESTORE', [k.entries, k.results, k.seq], args)
      }
    },
    async closeDrop(dropId) {
      await commands.hset(keysOf(dropId).gate, 'state', 'closed')
    },
    async backlog(dropId) {
      const k = keysOf(dropId)
      const [length, acked] = await Promise.all([commands.xlen(k.stream), commands.get(k.acked)])
      return length - Number(acked ?? 0)
    },
    async retireDrop(dropId, retainMs) {
      const multi = commands.multi()
      for (const key of Object.values(keysOf(dropId))) multi.pexpire(key, retainMs)
      await multi.exec()
    },
    async take(dropId, owner, ttlMs, count) {
      const k = keysOf(dropId)
      const entries = (await run('TAKE', [k.lease, k.stream], [owner, ttlMs, count], consumer)) as StreamEntries | null
      return entries && parseEntries(entries)
    },
    async wait(dropId, blockMs) {
      // Delivers the entry that woke it: it is pending now, and the next take replays it first.
      return (await consumer.xreadgroup('GROUP', GROUP, CONSUMER, 'COUNT', 1, 'BLOCK', blockMs, 'STREAMS', keysOf(dropId).stream, '>')) !== null
    },
    async settle(dropId, results) {
      if (!results.length) return
      const k = keysOf(dropId)
      await run('SETTLE', [k.results, k.stream, k.acked], [results.length, ...results.flatMap((r) => [r.userId, r.status]), ...results.map((r) => r.id)], consumer)
    },
    async unlease(dropId, owner) {
      await run('UNLEASE', [keysOf(dropId).lease], [owner])
    },
    async disconnect() {
      consumer.disconnect()
      commands.disconnect()
    },
  }
}
