import type { AddressInput } from '../accounts'
import type { OrderItemRow, OrderRow } from './lifecycle-types'
import type { OrderDto } from './model'
import type { orderTimeline } from './schema'

type TimelineRow = Pick<typeof orderTimeline.$inferSelect, 'status' | 'at'> & Partial<Pick<typeof orderTimeline.$inferSelect, 'event' | 'paymentId'>>
const timelineEntry = ({ status, at, event, paymentId }: TimelineRow) => (event ? { status, at, event, payment_id: paymentId ?? undefined } : { status, at })

/** An order as the API shows it, with its address opened by the caller (only where it is shown). */
export function orderDto({ row, items, timeline }: { row: OrderRow; items: OrderItemRow[]; timeline: TimelineRow[] }, shippingAddress: AddressInput | null): OrderDto {
  return {
    id: row.id,
    user_id: row.userId,
    status: row.status,
    source: row.source,
    customer_name: row.customerName,
    shipping_address: shippingAddress,
    items: items.map((item) => ({ product_id: item.productId, title: item.title, sku: item.sku, unit_price: item.unitPrice, quantity: item.quantity, line_total: item.lineTotal })),
    subtotal: row.subtotal,
    tax: row.tax,
    order_total: row.total,
    currency: row.currency,
    created_at: row.createdAt,
    paid_at: row.paidAt,
    payment_due_at: row.paymentDueAt,
    timeline: timeline.map(timelineEntry),
  }
}
