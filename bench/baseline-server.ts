/** The baseline: the fastest a Bun process answers a small JSON here. Every figure is also a ratio to it. */
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 3999),
  fetch: () => Response.json({ status: 'ok' }),
})
console.log(`baseline on ${server.url}`)
