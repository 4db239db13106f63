import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type HTTPRequest, type Page } from 'puppeteer-core'
import { CHROMIUM } from './chromium'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

export interface BrowserPage {
  page: Page
  /** Requests to anything but loopback, refused. */
  blocked: string[]
  /** What the page wrote to its console, and its uncaught errors. */
  console: string[]
  /**
   * Every request the page made, with the headers its network stack sent (those it adds itself,
   * such as EventSource's Last-Event-ID, included). `hold(match)` keeps the matching ones waiting
   * until `release()`: a test can act while a reconnect is in flight.
   */
  requests: { url: string; headers: Record<string, string> }[]
  hold(match: (url: string) => boolean): void
  release(): void
  /** A screenshot in a temporary directory (never the repository); returns its path. */
  screenshot(name: string): Promise<string>
  close(): Promise<void>
}

/**
 * Headless Chromium with no sandbox (it runs as root in CI) and no way out: every request to a
 * non-loopback host is aborted in the page, and the browser's own traffic goes to a proxy that
 * does not exist (loopback bypasses proxies), so a test proves what works without internet.
 */
export async function openBrowserPage(): Promise<BrowserPage> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
      '--proxy-server=http://127.0.0.1:9',
    ],
  })
  const page = await browser.newPage()
  const blocked: string[] = []
  const console: string[] = []
  const requests: BrowserPage['requests'] = []
  let holding: ((url: string) => boolean) | undefined
  const held: HTTPRequest[] = []
  page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`))
  page.on('pageerror', (error) => console.push(`pageerror: ${error}`))
  // Interception sees the page's headers; the network stack's own come with the extra info.
  const network = await page.createCDPSession()
  await network.send('Network.enable')
  const urls = new Map<string, string>()
  network.on('Network.requestWillBeSent', ({ requestId, request }) => urls.set(requestId, request.url))
  network.on('Network.requestWillBeSentExtraInfo', ({ requestId, headers }) => {
    const url = urls.get(requestId)
    if (url) requests.push({ url, headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)])) })
  })
  await page.setRequestInterception(true)
  page.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith('data:') && !LOOPBACK.has(new URL(url).hostname)) {
      blocked.push(url)
      void request.abort('blockedbyclient')
      return
    }
    if (holding?.(url)) held.push(request)
    else void request.continue()
  })
  const shots = mkdtempSync(join(tmpdir(), 'shop-browser-'))
  return {
    page,
    blocked,
    console,
    requests,
    hold(match) {
      holding = match
    },
    release() {
      holding = undefined
      for (const request of held.splice(0)) void request.continue()
    },
    async screenshot(name) {
      const path = join(shots, `${name}.png`)
      await page.screenshot({ path })
      return path
    },
    close: () => browser.close(),
  }
}
