import { t } from 'elysia'
import { Id, Int, Page, PageQuery, Problem, query, strictObject, Timestamp } from '../../lib/models'

const Count = (maximum: number, description?: string) => Int({ minimum: 1, maximum, description })
/** As the catalog's prices: far above any real price, far below where integers lose precision. */
const MAX_PRICE = 1_000_000_000_000

export const DropStatus = t.Union([t.Literal('scheduled'), t.Literal('open'), t.Literal('closed'), t.Literal('cancelled')], {
  description: '`cancelled`: its campaign was cancelled before it opened; it took no units',
})

export const Drop = t.Object({
  id: t.String(),
  opens_at: Timestamp,
  closes_at: Timestamp,
  units: Int({ description: 'Planned units; once open, the units actually taken out of stock' }),
  price: Int({ description: "This drop's final price in minor units: the campaign's when the drop opened" }),
  status: DropStatus,
  units_left: Int({ description: "Units no winner holds yet; 0 once closed (spare units go back to stock, an unpaid winner's unit down the waitlist)" }),
})

export const Campaign = t.Object({
  id: t.String(),
  product_id: t.String(),
  price: Int({ description: 'Final price in minor units, tax included' }),
  currency: t.String(),
  units_per_drop: Int(),
  drop_count: Int(),
  interval_seconds: Int(),
  starts_at: Timestamp,
  per_customer_limit: Int(),
  payment_window_seconds: Int(),
  waitlist_size: Int(),
  created_at: Timestamp,
  cancelled_at: t.Union([Timestamp, t.Null()], { description: 'When POST …/cancel cancelled the drops that had not opened' }),
  drops: t.Array(Drop),
})

const Price = Int({ minimum: 0, maximum: MAX_PRICE, description: 'Final price in minor units of the product currency, tax included' })
const UnitsPerDrop = Count(100_000)
const PaymentWindow = Count(7 * 24 * 3600, 'How long a winner has to pay before the unit passes down the waitlist')
const WaitlistSize = (description: string) => Int({ minimum: 0, maximum: 100_000, description })

export const CreateCampaignBody = strictObject(
  {
    product_id: Id,
    price: Price,
    units_per_drop: UnitsPerDrop,
    drop_count: Count(1_000),
    interval_seconds: Count(7 * 24 * 3600, 'Seconds between drop starts; a drop stays open until the next one starts'),
    starts_at: t.String({
      format: 'date-time',
      maxLength: 64,
      description: 'When the first drop opens: an RFC 3339 date-time (2030-01-02T10:00:00Z), not in the past; the last drop must close before 9999',
    }),
    per_customer_limit: t.Literal(1, { description: 'Units one customer may win per drop (only 1 is supported)' }),
    payment_window_seconds: PaymentWindow,
    waitlist_size: t.Optional(WaitlistSize('Defaults to units_per_drop')),
  },
  {
    examples: [
      {
        product_id: '0196f1c2-7a3b-7c4d-9e5f-0a1b2c3d4e5f',
        price: 1990,
        units_per_drop: 10,
        drop_count: 24,
        interval_seconds: 3600,
        starts_at: '2030-01-02T10:00:00Z',
        per_customer_limit: 1,
        payment_window_seconds: 900,
        waitlist_size: 10,
      },
    ],
  },
)

export const EditCampaignBody = strictObject(
  {
    price: t.Optional(Price),
    units_per_drop: t.Optional(UnitsPerDrop),
    waitlist_size: t.Optional(WaitlistSize('Entries kept waiting for an unpaid unit')),
    payment_window_seconds: t.Optional(PaymentWindow),
  },
  { minProperties: 1, description: 'New terms for the drops that have not opened; an open or closed drop keeps its own', examples: [{ price: 1490, units_per_drop: 20 }] },
)

export const CampaignParams = t.Object({ id: Id })
export const DropParams = t.Object({ drop_id: Id })
export const CampaignsQuery = query({ ...PageQuery })
export const CampaignPage = Page(Campaign)

const EntryStatus = t.Union([t.Literal('queued'), t.Literal('won'), t.Literal('waitlisted'), t.Literal('lost'), t.Literal('expired')])

export const EntryAccepted = t.Object({
  entry_id: t.String(),
  seq: Int({ description: "The entry's place in the drop's queue: strictly increasing in arrival order" }),
  status: EntryStatus,
})

export const MyEntry = t.Object({
  entry_id: t.String(),
  seq: Int(),
  status: EntryStatus,
  order_id: t.Optional(t.String({ description: 'The flash-sale order of a winner' })),
  pay_by: t.Optional(Timestamp),
})

const Outcome = t.Union([t.Literal('won'), t.Literal('expired'), t.Literal('lost')])

export const Audit = t.Object({
  drop_id: t.String(),
  units: Int(),
  salt: t.String({ description: 'customer_hash = lowercase hex SHA-256 of `<salt>:<customer id>`' }),
  final: t.Boolean({ description: 'False while a winner may still not pay: waitlisted entries (not listed yet) may still win, a winner may still expire' }),
  entries: t.Array(t.Object({ seq: Int(), customer_hash: t.String(), outcome: Outcome }), { description: 'In seq order; a waitlisted entry appears once final (as lost, or won if promoted)' }),
})

export { Problem }
export type CampaignDto = typeof Campaign.static
export type DropDto = typeof Drop.static
export type CreateCampaignInput = typeof CreateCampaignBody.static
export type EditCampaignInput = typeof EditCampaignBody.static
export type MyEntryDto = typeof MyEntry.static
export type AuditDto = typeof Audit.static
