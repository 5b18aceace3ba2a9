import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Debian's chromium (never a downloaded browser; `.ci/run` installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium'

/** Flags for a headless, quiet browser in a container (no sandbox: CI runs as root; no calls home). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Fails with a clear message when {@link CHROMIUM} is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)`
    )
}

/**
 * Saves a full-page PNG of the dashboard at `api` (a node's local API) to `path` once the page
 * is live and has drawn every tile of its demo images: the README's picture of a testnet.
 */
export async function screenshotDashboard(api: string, path: string, timeoutMs: number): Promise<void> {
  requireChromium()
  // playwright-core is a devDependency: loaded only when a screenshot is asked for
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS]
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${api}/`, { timeout: timeoutMs })
    await page.locator('#live[data-state="live"]').waitFor({ timeout: timeoutMs })
    // every image figure complete: as many tiles done as it has
    await page.waitForFunction(
      () => {
        const figs = Array.from(document.querySelectorAll('#image-list figure'))
        return (
          figs.length > 0 &&
          figs.every((f) => f.getAttribute('data-done') === f.getAttribute('data-tiles')) &&
          Array.from(document.querySelectorAll('#image-list figure img')).every(
            (i) => (i as unknown as { complete: boolean }).complete
          )
        )
      },
      undefined,
      { timeout: timeoutMs }
    )
    await mkdir(dirname(path), { recursive: true })
    await page.screenshot({ path, fullPage: true })
  } finally {
    await browser.close()
  }
}
