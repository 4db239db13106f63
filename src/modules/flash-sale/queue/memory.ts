import type { DropGate, EnterResult, FlashSaleQueue, QueuedEntry, QueuedEntryView, SettledEntry } from './port'

interface DropQueue {
  gate?: DropGate
  closed: boolean
  /** The last seq given (or restored). */
  seq: number
  entries: Map<string, QueuedEntryView>
  /** Entries accepted in this process, in seq order. */
  stream: QueuedEntry[]
  /** Index of the first entry never delivered. */
  delivered: number
  pending: Map<string, QueuedEntry>
  /** Stream ids accepted and not settled yet: the backlog. */
  unsettled: Set<string>
  results: Map<string, SettledEntry['status']>
  lease?: { owner: string; until: number }
}

/**
 * The queue of a single instance: the same semantics as the Redis adapter, in memory.
 * Entries accepted and not yet decided do not survive a restart (the scheduler restores the
 * decided ones from SQL), which is why several instances (or durability) need Redis.
 */
export function memoryQueue(): FlashSaleQueue {
  const drops = new Map<string, DropQueue>()
  let wake = new Set<(came: boolean) => void>()
  const dropOf = (id: string) => {
    let drop = drops.get(id)
    if (!drop) {
      drop = { closed: false, seq: 0, entries: new Map(), stream: [], delivered: 0, pending: new Map(), unsettled: new Set(), results: new Map() }
      drops.set(id, drop)
    }
    return drop
  }
  const view = (drop: DropQueue, userId: string, entry: QueuedEntryView): QueuedEntryView => ({ ...entry, status: drop.results.get(userId) ?? 'queued' })
  const notify = (came: boolean) => {
    const waiting = wake
    wake = new Set()
    for (const resolve of waiting) resolve(came)
  }

  return {
    async enter(dropId, userId, entryId, now): Promise<EnterResult> {
      const drop = dropOf(dropId)
      const existing = drop.entries.get(userId)
      if (existing) return { kind: 'repeat', entry: view(drop, userId, existing) }
      if (!drop.gate || drop.closed || now < drop.gate.opensAt || now >= drop.gate.closesAt) return { kind: 'not_open' }
      const seq = drop.seq + 1
      if (seq > drop.gate.capacity) return { kind: 'sold_out' }
      drop.seq = seq
      const entry = { entryId, seq, at: now, status: 'queued' as const }
      drop.entries.set(userId, entry)
      drop.stream.push({ id: String(seq), entryId, seq, userId, at: now })
      drop.unsettled.add(String(seq))
      notify(true)
      return { kind: 'accepted', entry }
    },
    async entryOf(dropId, userId) {
      const drop = drops.get(dropId)
      const entry = drop?.entries.get(userId)
      return drop && entry ? view(drop, userId, entry) : null
    },
    async openDrop(gate) {
      const drop = dropOf(gate.id)
      if (drop.closed) return 'closed'
      if (drop.seq < gate.decidedSeq) {
        drop.gate = undefined
        return 'behind'
      }
      drop.gate = gate
      return 'open'
    },
    async restore(dropId, entries) {
      const drop = dropOf(dropId)
      for (const { userId, entryId, seq, at, status } of entries) {
        drop.seq = Math.max(drop.seq, seq)
        if (drop.entries.has(userId)) continue
        drop.entries.set(userId, { entryId, seq, at, status: 'queued' })
        drop.results.set(userId, status)
      }
    },
    async closeDrop(dropId) {
      dropOf(dropId).closed = true
    },
    async backlog(dropId) {
      return drops.get(dropId)?.unsettled.size ?? 0
    },
    async retireDrop(dropId, retainMs) {
      setTimeout(() => drops.delete(dropId), retainMs).unref?.()
    },
    async take(dropId, owner, ttlMs, count) {
      const drop = dropOf(dropId)
      // Let the requests already waiting on the event loop enter first, like the network round
      // trip of the Redis script does: otherwise each wake-up would hand over a batch of one.
      await new Promise((resolve) => setImmediate(resolve))
      const now = Date.now()
      if (drop.lease && drop.lease.owner !== owner && drop.lease.until > now) return null
      drop.lease = { owner, until: now + ttlMs }
      const replayed = [...drop.pending.values()].slice(0, count)
      const fresh = drop.stream.slice(drop.delivered, drop.delivered + count - replayed.length)
      drop.delivered += fresh.length
      for (const entry of fresh) drop.pending.set(entry.id, entry)
      return [...replayed, ...fresh]
    },
    async wait(dropId, blockMs) {
      const drop = dropOf(dropId)
      if (drop.delivered < drop.stream.length) return true
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake.delete(done)
          resolve(false)
        }, blockMs)
        const done = (came: boolean) => {
          clearTimeout(timer)
          resolve(came)
        }
        wake.add(done)
      })
    },
    async settle(dropId, results: SettledEntry[]) {
      const drop = dropOf(dropId)
      for (const { id, userId, status } of results) {
        drop.results.set(userId, status)
        drop.pending.delete(id)
        drop.unsettled.delete(id)
      }
    },
    async unlease(dropId, owner) {
      const drop = drops.get(dropId)
      if (drop?.lease?.owner === owner) drop.lease = undefined
    },
    async disconnect() {
      notify(false)
    },
  }
}
