/**
 * A small read-through cache for hot, slightly-stale-tolerant reads (catalog pages). Callers
 * asking for the same key while a load is in flight share it, so a burst costs one query.
 * A failed load is not kept.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>()

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 2000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlMs <= 0) return load()
    const at = this.now()
    const hit = this.entries.get(key)
    if (hit && at - hit.at < this.ttlMs) return hit.value
    const value = load()
    const entry = { at, value }
    this.entries.delete(key)
    this.entries.set(key, entry)
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    return value
  }

  clear() {
    this.entries.clear()
  }
}
