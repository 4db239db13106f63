/** Opaque, time-ordered ids (UUIDv7): sortable by creation, which keeps cursor pagination stable. */
export const newId = (): string => Bun.randomUUIDv7()
