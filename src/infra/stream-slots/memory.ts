import { SLOT_LEASE_MS, type StreamSlots } from '.'

/** One instance: slots live in this process, with the same leases as the Redis adapter. */
export function memoryStreamSlots(leaseMs = SLOT_LEASE_MS): StreamSlots {
  const owners = new Map<string, Map<string, number>>()
  return {
    async take(owner, slot, limit, now) {
      const held = owners.get(owner) ?? new Map<string, number>()
      for (const [id, until] of held) if (until <= now) held.delete(id)
      if (held.size >= limit) return false
      held.set(slot, now + leaseMs)
      owners.set(owner, held)
      return true
    },
    async renew(owner, slot, now) {
      const held = owners.get(owner)
      if (held?.has(slot)) held.set(slot, now + leaseMs)
    },
    async release(owner, slot) {
      const held = owners.get(owner)
      held?.delete(slot)
      if (held?.size === 0) owners.delete(owner)
    },
  }
}
