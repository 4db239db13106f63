import { sql } from 'drizzle-orm'
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { products } from '../catalog/schema'
import { users } from '../accounts/schema'

/** `cancelled`: the campaign was cancelled before this drop opened; it took no units. */
export type DropStatus = 'scheduled' | 'open' | 'closed' | 'cancelled'
/** `queued` lives only in the queue; a row exists once the allocator decided. */
export type EntryOutcome = 'won' | 'waitlisted' | 'lost' | 'expired'

export const flashSaleCampaigns = sqliteTable(
  'flash_sale_campaigns',
  {
    id: text('id').primaryKey(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    /** Minor units of the product's currency, tax included. */
    price: integer('price').notNull(),
    unitsPerDrop: integer('units_per_drop').notNull(),
    dropCount: integer('drop_count').notNull(),
    intervalSeconds: integer('interval_seconds').notNull(),
    startsAt: text('starts_at').notNull(),
    perCustomerLimit: integer('per_customer_limit').notNull(),
    paymentWindowSeconds: integer('payment_window_seconds').notNull(),
    waitlistSize: integer('waitlist_size').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    /** Set by POST …/cancel: drops that had not opened then are `cancelled`. */
    cancelledAt: text('cancelled_at'),
  },
  (t) => [index('flash_sale_campaigns_product_idx').on(t.productId)],
)

export const flashSaleDrops = sqliteTable(
  'flash_sale_drops',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => flashSaleCampaigns.id),
    position: integer('position').notNull(),
    /** Epoch milliseconds: compared by the scheduler and the entry hot path. */
    opensAt: integer('opens_at').notNull(),
    closesAt: integer('closes_at').notNull(),
    /** Planned units; once open, the units actually taken out of stock (fewer when stock was short). */
    units: integer('units').notNull(),
    // The drop's own terms: the campaign's when it was created or last edited before the drop
    // opened (an edit never reaches an open drop). The defaults only fill rows older than these
    // columns, which their migration then copies from the campaign.
    price: integer('price').notNull().default(0),
    waitlistSize: integer('waitlist_size').notNull().default(0),
    paymentWindowSeconds: integer('payment_window_seconds').notNull().default(0),
    /** Random, published with the drop's audit so customers can recompute their own hash, and cannot link them across drops. */
    auditSalt: text('audit_salt').notNull().default(''),
    status: text('status').$type<DropStatus>().notNull(),
    /** Fencing token: raised by each allocator that takes the drop over; a batch commits only with the current one. */
    allocatorEpoch: integer('allocator_epoch').notNull().default(0),
    /** Units given back to stock since the close (none held them and nobody waited for them). */
    unitsReturned: integer('units_returned').notNull().default(0),
    openedAt: text('opened_at'),
    closedAt: text('closed_at'),
    /** Closed and final: no winner left to pay, the waitlist lost, every spare unit returned. */
    settledAt: text('settled_at'),
  },
  (t) => [uniqueIndex('flash_sale_drops_campaign_position_unique').on(t.campaignId, t.position), index('flash_sale_drops_status_idx').on(t.status, t.opensAt)],
)

/**
 * One row per accepted entry once the allocator has decided it: the SQL-checkable record
 * of who got what. At most one per customer and one per seq in a drop.
 */
export const flashSaleEntries = sqliteTable(
  'flash_sale_entries',
  {
    id: text('id').primaryKey(),
    dropId: text('drop_id')
      .notNull()
      .references(() => flashSaleDrops.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    seq: integer('seq').notNull(),
    outcome: text('outcome').$type<EntryOutcome>().notNull(),
    orderId: text('order_id'),
    payBy: text('pay_by'),
    queuedAt: text('queued_at').notNull(),
    decidedAt: text('decided_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('flash_sale_entries_drop_user_unique').on(t.dropId, t.userId),
    uniqueIndex('flash_sale_entries_drop_seq_unique').on(t.dropId, t.seq),
    index('flash_sale_entries_drop_outcome_idx').on(t.dropId, t.outcome, t.seq),
    index('flash_sale_entries_order_idx').on(t.orderId),
    check('flash_sale_entries_seq_positive', sql`${t.seq} > 0`),
  ],
)
