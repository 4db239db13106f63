/**
 * The admin's console in a real browser: Debian's Chromium (headless, driven by
 * puppeteer-core), against the server as production runs it (`bun src/main.ts`,
 * NODE_ENV=production, rate limits on, bound to 127.0.0.1), with every request to another host
 * refused, so a page that needs the internet fails here. On a failure a screenshot is written
 * to the temp directory and its path printed.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'

const CHROMIUM = process.env.CHROMIUM_PATH ?? Bun.which('chromium') ?? '/usr/bin/chromium'
const ADMIN = { email: 'console-admin@shop.test', password: 'console admin passphrase' }
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

const scratch = scratchDir()
const server = serverProcess({ ...productionEnv(scratch.dir), RATE_LIMIT: 'on', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password })
let url: string
let browser: Browser
let page: Page
/** What the page did that it must not: console errors (CSP violations among them), uncaught errors, requests off this machine. */
const trouble: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/bootstrap.sh does it), or set CHROMIUM_PATH`)
  url = await server.url()
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
  page = await browser.newPage()
  await page.setRequestInterception(true)
  page.on('request', (request) => {
    const target = new URL(request.url())
    if (target.protocol === 'data:' || LOOPBACK.has(target.hostname)) return request.continue()
    trouble.push(`request off this machine: ${request.url()}`)
    return request.abort('blockedbyclient')
  })
  page.on('console', (message) => {
    if (message.type() === 'error') trouble.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => trouble.push(`page error: ${error}`))
  // A CSP violation is also reported to the page itself: collected there, read at the end.
  // (Code that runs in the page is given as text: this project's TypeScript has no DOM types.)
  await page.evaluateOnNewDocument(`
    window.cspViolations = []
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))
  `)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  server.kill('SIGTERM')
  await server.exited()
  scratch.remove()
})

/** Runs `steps`; on a failure, a screenshot goes to the temp directory (never the repository). */
async function withScreenshot(name: string, steps: () => Promise<void>) {
  try {
    await steps()
  } catch (error) {
    const path = join(tmpdir(), `shop-${name}-${Date.now()}.png`)
    await page.screenshot({ path, fullPage: true }).catch(() => {})
    console.error(`screenshot of the failure: ${path}`)
    throw error
  }
}

const cspViolations = () => page.evaluate('window.cspViolations') as Promise<string[]>

/** "Try it out" on one operation (the UI opens with it enabled): sets the body, executes, and returns the live answer. */
async function execute(operationId: string, tag: string, body?: (example: string) => string) {
  const block = `#operations-${tag}-${operationId}`
  await page.click(`${block} .opblock-summary`)
  await page.waitForSelector(`${block} .execute`)
  if (body) {
    const editor = `${block} textarea.body-param__text`
    await page.waitForSelector(editor)
    const example = await page.$eval(editor, (area) => (area as unknown as { value: string }).value)
    // As typing would, in one go: the value through the native setter, then the input event React listens to.
    await page.evaluate(`{
      const area = document.querySelector(${JSON.stringify(editor)})
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(area, ${JSON.stringify(body(example))})
      area.dispatchEvent(new Event('input', { bubbles: true }))
    }`)
  }
  await page.click(`${block} .execute`)
  const answer = `${block} .live-responses-table tbody`
  await page.waitForSelector(`${answer} .response-col_status`, { timeout: 20_000 })
  const status = await page.$eval(`${answer} .response-col_status`, (cell) => cell.textContent?.trim() ?? '')
  const text = await page.$eval(`${answer} .response-col_description pre`, (pre) => pre.textContent ?? '')
  return { status: Number.parseInt(status, 10), body: JSON.parse(text) }
}

test('Swagger renders every operation, logs the admin in through Authorize, and creates a region and a product from "Try it out"', async () => {
  await withScreenshot('swagger', async () => {
    const doc = (await (await fetch(`${url}/swagger/json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0)

    await page.goto(`${url}/swagger`, { waitUntil: 'networkidle0' })
    await page.waitForSelector('.opblock')
    expect(await page.$$eval('.opblock', (blocks) => blocks.length)).toBe(operations)

    // Authorize: the OAuth2 password flow, client id and secret left empty (as the README says).
    await page.click('.auth-wrapper .authorize')
    await page.waitForSelector('#oauth_username')
    await page.type('#oauth_username', ADMIN.email)
    await page.type('#oauth_password', ADMIN.password)
    await page.click('.auth-btn-wrapper .authorize')
    await page.waitForFunction(`[...document.querySelectorAll('.auth-btn-wrapper button')].some((b) => b.textContent.trim() === 'Logout')`, { timeout: 20_000 })
    await page.click('.auth-btn-wrapper .btn-done')

    const region = await execute('postV1Regions', 'regions', (example) => example.replace('"Brazil"', '"Brazil (console)"'))
    expect(region.status).toBe(201)
    const product = await execute('postV1Products', 'catalog', (example) => example.replace(/"region_id": "[^"]*"/, `"region_id": "${region.body.id}"`))
    expect(product.status).toBe(201)
    expect(product.body).toMatchObject({ region_id: region.body.id, currency: 'BRL' })

    // The authorization outlives a reload (persistAuthorization).
    await page.reload({ waitUntil: 'networkidle0' })
    await page.waitForSelector('.opblock')
    expect(await page.$$eval('.auth-wrapper .authorize.locked', (buttons) => buttons.length)).toBe(1)

    expect(await cspViolations()).toEqual([])
    expect(trouble).toEqual([])
  })
}, 90_000)
