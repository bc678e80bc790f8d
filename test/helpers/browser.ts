import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { onTestFinished } from 'vitest'

/** Debian's Chromium (apt-get install chromium); browser tests skip without it. */
export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

/** Headless Chromium with the flags this sandbox needs, closed when the test finishes. */
export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox as root; no GPU; no background calls to hosts this machine cannot reach.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  onTestFinished(() => browser.close())
  return browser
}
