import puppeteer from 'puppeteer-core'

/** Debian's package (scripts/bootstrap.sh installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Opens a local HTML file in headless Chromium with the network cut (offline, and any request
 * but the file itself aborted and listed) and reads back its charts: each `svg[data-chart]`
 * with the points it declares, the points actually laid out inside it, and its lines.
 */
export async function chartsIn(file: string) {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
  try {
    const page = await browser.newPage()
    await page.setOfflineMode(true)
    await page.setRequestInterception(true)
    const offline: string[] = []
    const errors: string[] = []
    page.on('request', (request) => {
      if (request.url() === `file://${file}`) return void request.continue()
      offline.push(request.url())
      void request.abort()
    })
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
    page.on('pageerror', (error) => errors.push(String(error)))
    await page.goto(`file://${file}`, { waitUntil: 'load' })
    const charts = await page.$$eval('svg[data-chart]', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect()
        const inside = (r: { width: number; left: number; right: number; top: number; bottom: number }) =>
          r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1
        return {
          id: svg.getAttribute('data-chart'),
          declared: Number(svg.getAttribute('data-points')),
          drawn: box.width > 0 && box.height > 0 ? [...svg.querySelectorAll('circle[data-point]')].filter((c) => inside(c.getBoundingClientRect())).length : 0,
          lines: [...svg.querySelectorAll('polyline')].filter((l) => l.getBoundingClientRect().width > 0).length,
        }
      }),
    )
    return { offline, errors, charts }
  } finally {
    await browser.close()
  }
}
