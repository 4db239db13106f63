import { Elysia } from 'elysia'
import { EventStream, preserialized, ProblemOf } from '../../lib/models'
import type { AuthPlugin } from '../../plugins/auth'
import { rateLimitClasses } from '../../plugins/rate-limit'
import { STREAM_IDLE_SECONDS } from '../../lib/sse'
import type { EntryEvents } from './events'
import type { EntryOutcome, FlashSaleService } from './service'
import type { Campaigns } from './campaigns'
import { fixedProblem, problemAnswer, requestIdOf, type ResponseSet } from '../../plugins/problems'
import { Audit, Campaign, CampaignPage, CampaignParams, CampaignsQuery, CreateCampaignBody, DropParams, EditCampaignBody, EntryAccepted, MyEntry, Problem } from './model'

const soldOut = fixedProblem(409, 'sold_out', 'Every unit of this drop is taken and its waitlist is full')
const notReady = fixedProblem(503, 'service_unavailable', 'This drop is opening; try again in a moment', { 'retry-after': '1' })

/**
 * An entry outcome as HTTP: 202 queued, 200 a repeat, 409 sold out or not open (with its
 * window), 503 not prepared yet. Each a finished Response of our own text (the stampede's
 * hot path): the route's response schemas document them without encoding each answer again.
 */
function entryAnswer(outcome: EntryOutcome, set: ResponseSet, requestId: string) {
  switch (outcome.kind) {
    case 'accepted':
    case 'repeat':
      set.status = outcome.kind === 'accepted' ? 202 : 200
      return preserialized(set, JSON.stringify(outcome.entry))
    case 'sold_out':
      return soldOut(set, requestId)
    case 'drop_not_open':
      return problemAnswer(set, 409, 'drop_not_open', 'This drop is not open', requestId, { opens_at: outcome.opensAt, closes_at: outcome.closesAt })
    case 'not_ready':
      return notReady(set, requestId)
  }
}

const EntryStream = EventStream('`event: entry`, `data` as GET …/entries/me; ends after `lost` or `expired`')
const NotPrepared = ProblemOf('`service_unavailable`: the drop is opening; retry after `Retry-After` seconds')

export const flashSaleRoutes = (flashSales: FlashSaleService, campaigns: Campaigns, entryEvents: EntryEvents, auth: AuthPlugin) =>
  new Elysia({ name: 'flash-sale-routes' })
    .use(auth)
    .use(rateLimitClasses)
    .group('/v1/flash-sales', { detail: { tags: ['flash-sales'] } }, (app) =>
      app
        .post('', async ({ body, user, status }) => status(201, await campaigns.create(user.id, body)), {
          auth: 'admin',
          body: CreateCampaignBody,
          response: { 201: Campaign, 403: Problem, 404: ProblemOf('`not_found`: no such product') },
          detail: {
            summary: 'Create a flash-sale campaign and schedule its drops',
            description:
              'Admins. Schedules `drop_count` drops, `interval_seconds` apart from `starts_at`; each takes `units_per_drop` units out of stock when it opens and sells them at `price` to the first entries.',
          },
        })
        .patch('/:id', ({ params, body }) => campaigns.edit(params.id, body), {
          auth: 'admin',
          params: CampaignParams,
          body: EditCampaignBody,
          response: { 200: Campaign, 403: Problem, 404: Problem, 409: ProblemOf('`conflict`: the campaign is cancelled or every drop has opened') },
          detail: {
            summary: "Change the terms of a campaign's drops that have not opened",
            description:
              'price, units_per_drop, waitlist_size and payment_window_seconds apply to every drop still `scheduled` (the scheduler opens each a few seconds before `opens_at`); an open or closed drop keeps the terms it opened with. 409 `conflict` when the campaign is cancelled or every drop has opened.',
          },
        })
        .post('/:id/cancel', ({ params }) => campaigns.cancel(params.id), {
          auth: 'admin',
          params: CampaignParams,
          response: { 200: Campaign, 403: Problem, 404: Problem },
          detail: {
            summary: 'Cancel a campaign',
            description: 'Every drop that has not opened becomes `cancelled` and takes no units; a drop already open runs to its close. Cancelling again changes nothing.',
          },
        })
        .get('', ({ query }) => campaigns.list(query.limit, query.cursor), {
          query: CampaignsQuery,
          response: { 200: CampaignPage },
          detail: { summary: 'Flash-sale campaigns, newest first, each drop with its status and units left', description: 'A page at a time (`next_cursor`). Public.' },
        })
        .get('/:id', ({ params }) => campaigns.get(params.id), {
          params: CampaignParams,
          response: { 200: Campaign, 404: Problem },
          detail: { summary: 'A flash-sale campaign', description: 'Its terms and every drop with its window, status and units left. Public.' },
        })
        .post('/drops/:drop_id/entries', async ({ params, user, set, request }) => entryAnswer(await flashSales.enter(user.id, params.drop_id), set, requestIdOf(request)), {
          auth: 'customer',
          rateLimit: 'flash-sale-entry',
          params: DropParams,
          response: {
            200: MyEntry,
            202: EntryAccepted,
            403: Problem,
            404: Problem,
            409: ProblemOf('`sold_out`: every unit is taken and the waitlist is full; `drop_not_open`: with `opens_at` and `closes_at`'),
            503: NotPrepared,
          },
          detail: {
            summary: 'Enter a drop: 202 queued with its seq; a repeat answers 200 with the entry as it is now',
            description:
              'The first entry answers 202 with its place in the queue (`seq`). A repeat by the same customer answers 200 with the entry as GET …/entries/me shows it at that moment (`won` with its order, `waitlisted`, …). 409 `drop_not_open` (with `opens_at`, `closes_at`) before it opens, after it closes, or when its campaign was cancelled; 409 `sold_out` once units and waitlist are full.',
          },
        })
        .get('/drops/:drop_id/entries/me', ({ params, user }) => flashSales.myEntry(user.id, params.drop_id), {
          auth: 'customer',
          params: DropParams,
          response: { 200: MyEntry, 403: Problem, 404: Problem },
          detail: { summary: 'My entry in a drop and its result', description: 'Queued, won (with the order to pay and its deadline), waitlisted, lost or expired.' },
        })
        .get(
          '/drops/:drop_id/entries/me/events',
          async ({ params, user, request, server }) => {
            server?.timeout(request, STREAM_IDLE_SECONDS)
            return entryEvents.open(user.id, params.drop_id)
          },
          {
            stream: 'customer',
            params: DropParams,
            response: { 200: EntryStream, 403: Problem, 404: Problem },
            detail: {
              summary: 'My entry in a drop, live (Server-Sent Events): at once, then each change',
              description: 'The entry as GET …/entries/me shows it, then each change, until it is lost or expired.',
            },
          },
        )
        .get('/drops/:drop_id/audit', ({ params }) => flashSales.audit(params.drop_id), {
          params: DropParams,
          response: { 200: Audit, 404: Problem, 409: ProblemOf('`conflict`: the drop has not closed yet') },
          detail: {
            summary: 'The entries of a closed drop in seq order, with a salted customer hash and outcome (waitlisted ones once final)',
            description: 'Public, so anyone can check that units went to the first entries: a customer finds their own entry by hashing the salt with their id.',
          },
        }),
    )
