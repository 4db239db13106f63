/**
 * A burst of malformed, oversized and slow inputs against a shop this script starts
 * (production mode, rate limits off so every input reaches the code it aims at). Each kind
 * runs on its own (several at once) and then all together; the server's resident memory
 * (VmRSS) and CPU time (user + system) are read from /proc. Budget: no kind moves memory by
 * more than ~50 MB, and no request holds a core for more than a second. Writes its table into
 * bench/RESULTS.md (between the `abuse` markers); exit 1 when a line misses.
 * `bun bench/abuse.ts`
 */
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { DEFAULT_OUT } from './lib/cli'
import { REPO } from './lib/server'
import { ownTarget } from './lib/target'
import { cpuTicks, pidOf, rssMiB } from './lib/proc'
import { writeSection } from './lib/sections'
import { pixelBombPng } from '../test/support/images'

const MEMORY_BUDGET_MIB = 50
const CPU_BUDGET_S = 1

const target = await ownTarget(DEFAULT_OUT)
const pid = pidOf(target.url)
const { port } = new URL(target.url)
const [customer] = await (await target.fixtures()).customers(1)
const auth = { authorization: `Bearer ${customer!.token}` }

/**
 * Raw bytes over one socket: the head, then `body` in pieces as fast as the server reads
 * them, stopping once it answers; then, unless it answered or closed, the connection is held
 * open (a client that stopped sending) until the server closes it or 20 s pass.
 */
async function rawRequest(head: string, body: Iterable<Uint8Array> = []) {
  const done = Promise.withResolvers<string>()
  let answer = ''
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: Number(port),
    socket: { data: (_s, bytes) => void (answer += bytes.toString()), close: () => done.resolve(answer), error: () => done.resolve(answer) },
  })
  socket.write(head)
  void (async () => {
    for (const piece of body) {
      let offset = 0
      while (offset < piece.length) {
        if (answer || socket.readyState !== 1) return
        offset += Math.max(0, socket.write(piece.subarray(offset)))
        if (offset < piece.length) await Bun.sleep(2)
      }
    }
  })()
  const closedOrTimedOut = await Promise.race([done.promise, Bun.sleep(20_000).then(() => undefined)])
  socket.end()
  return closedOrTimedOut ?? `${answer || 'no answer'} (still open after 20 s)`
}

const chunk = (bytes: Uint8Array) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])

function* chunked(total: number, piece = 256 * 1024) {
  const framed = chunk(new Uint8Array(piece))
  for (let sent = 0; sent < total; sent += piece) yield framed
}

const photoHead = (extra: string) => `PUT /v1/me/photo HTTP/1.1\r\nHost: shop\r\nAuthorization: ${auth.authorization}\r\nContent-Type: multipart/form-data; boundary=b\r\n${extra}\r\n`
const multipartHead = Buffer.from('--b\r\nContent-Disposition: form-data; name="photo"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n')

const photo = (bytes: Uint8Array) => {
  const form = new FormData()
  form.set('photo', new Blob([bytes], { type: 'image/png' }), 'x.png')
  return fetch(`${target.url}/v1/me/photo`, { method: 'PUT', headers: auth, body: form }).then((r) => `${r.status}`)
}
const json = (method: string, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${target.url}${path}`, { method, headers: { 'content-type': 'application/json', ...auth, ...headers }, body }).then((r) => `${r.status}`)

const needle = pixelBombPng(1, 20_000_000, { decodable: true })
const wide = pixelBombPng(8193, 2000, { decodable: true })
const bomb = pixelBombPng()
const deepJson = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`

interface Kind {
  name: string
  /** How many run at once. */
  count: number
  send(): Promise<string>
  /** Not held to the budget, and why. */
  outside?: string
}

const KINDS: Kind[] = [
  { name: 'chunked photo upload of 64 MB, no Content-Length', count: 6, send: () => rawRequest(photoHead('Transfer-Encoding: chunked\r\n'), [chunk(multipartHead), ...chunked(64 * 1024 * 1024)]) },
  { name: 'photo upload declaring 60 MB', count: 6, send: () => rawRequest(photoHead(`Content-Length: ${60 * 1024 * 1024}\r\n`), [multipartHead]) },
  { name: 'PNG of 1 × 20,000,000 px (80 KB)', count: 4, send: () => photo(needle) },
  { name: 'PNG of 8,193 × 2,000 px', count: 4, send: () => photo(wide) },
  { name: 'PNG header claiming 16,000 × 16,000 px', count: 4, send: () => photo(bomb) },
  { name: 'JSON array nested 30,000 deep (60 KB)', count: 8, send: () => json('PATCH', '/v1/me', deepJson) },
  { name: 'JSON object nested 10,000 deep', count: 8, send: () => json('PATCH', '/v1/me', deepObject) },
  {
    name: 'JSON body of 10 MB, chunked',
    count: 6,
    send: () =>
      rawRequest(`PATCH /v1/me HTTP/1.1\r\nHost: shop\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, chunked(10 * 1024 * 1024)),
  },
  { name: 'malformed JSON, control characters, NUL', count: 20, send: () => json('POST', '/v1/orders', `{"customer_name":"a\\u0000b","shipping_address":{"line1":"\\u001b[31m"}`) },
  {
    name: 'login with a 128-character password, unknown email',
    count: 8,
    send: () => json('POST', '/v1/auth/login', JSON.stringify({ email: `${crypto.randomUUID()}@x.test`, password: 'p'.repeat(128) })),
    outside: "a well-formed request: argon2id's 64 MiB per hash, one hash per core at once (Bun's pool), whatever the burst; rate-limited per address and (email, address) in production",
  },
  {
    name: 'body that stalls after 10 bytes (slowloris)',
    count: 20,
    send: () =>
      rawRequest(`PATCH /v1/me HTTP/1.1\r\nHost: shop\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`, [Buffer.from('{"name":"a')]),
  },
]

interface Row {
  name: string
  outside?: string
  requests: number
  answers: string
  wallS: number
  cpuPerRequestS: number
  rssGrowthMiB: number
}

/** Runs `count` × `send` at once, sampling RSS every 20 ms; CPU and memory are the server's. */
async function measure(name: string, sends: (() => Promise<string>)[]): Promise<Row> {
  Bun.gc(true)
  await Bun.sleep(500)
  const rssBefore = rssMiB(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 20)
  const before = cpuTicks(pid)
  const started = performance.now()
  const answers = await Promise.all(sends.map((send) => send()))
  const wallS = (performance.now() - started) / 1000
  const after = cpuTicks(pid)
  clearInterval(sampler)
  const statuses = new Map<string, number>()
  for (const answer of answers) {
    const status = /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? (/^\d{3}$/.test(answer) ? answer : answer ? 'other' : 'closed, no answer')
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
  }
  const cpuS = (after.user + after.system - before.user - before.system) / 100
  return {
    name,
    requests: sends.length,
    answers: [...statuses].map(([s, n]) => `${n}× ${s}`).join(', '),
    wallS,
    cpuPerRequestS: cpuS / sends.length,
    rssGrowthMiB: rssPeak - rssBefore,
  }
}

const load = loadavg()
const rows: Row[] = []
try {
  // Warm the server's code paths (JIT, sharp, argon2) so first use is not counted as abuse.
  await measure('warm-up', [() => photo(bomb), () => json('PATCH', '/v1/me', '{"name":"warm"}'), () => json('POST', '/v1/auth/login', '{"email":"w@x.test","password":"warm-up password"}')])
  for (const kind of KINDS) {
    const row = {
      ...(await measure(
        kind.name,
        Array.from({ length: kind.count }, () => kind.send),
      )),
      outside: kind.outside,
    }
    rows.push(row)
    console.error(`${row.name}: ${row.answers}; ${row.cpuPerRequestS.toFixed(3)} s CPU a request, RSS +${row.rssGrowthMiB.toFixed(1)} MiB, ${row.wallS.toFixed(1)} s`)
  }
  const all = await measure(
    'all of the above at once, logins aside',
    KINDS.filter((k) => !k.outside).flatMap((kind) => Array.from({ length: kind.count }, () => kind.send)),
  )
  rows.push(all)
  console.error(`all at once: ${all.answers}; RSS +${all.rssGrowthMiB.toFixed(1)} MiB`)
} finally {
  await target.close()
}

const ok = (row: Row) => Boolean(row.outside) || (row.rssGrowthMiB <= MEMORY_BUDGET_MIB && row.cpuPerRequestS <= CPU_BUDGET_S)
const section = `## Abuse: malformed, oversized and slow inputs

\`bun bench/abuse.ts\` (${new Date().toISOString().slice(0, 16)}Z, load average ${load.map((l) => l.toFixed(2)).join(' ')} at the start): a shop in
production mode with rate limits off (every input reaches the code it aims at); each kind sent
that many times at once, then everything together. Server figures from /proc: peak resident
memory (VmRSS, sampled every 20 ms) above what it was before the kind, and CPU time (user +
system) divided by the requests. Budget: ≤ ${MEMORY_BUDGET_MIB} MiB and ≤ ${CPU_BUDGET_S} s of CPU a request.

| input | at once | answers | CPU a request | peak RSS growth | wall | verdict |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.name} | ${r.requests} | ${r.answers} | ${(r.cpuPerRequestS * 1000).toFixed(0)} ms | ${r.rssGrowthMiB.toFixed(1)} MiB | ${r.wallS.toFixed(1)} s | ${r.outside ? `outside the budget: ${r.outside}` : ok(r) ? 'pass' : '**miss**'} |`).join('\n')}
`
writeSection(join(REPO, 'bench/RESULTS.md'), 'abuse', section)
console.log(section)
process.exit(rows.every(ok) ? 0 : 1)
