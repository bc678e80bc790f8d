import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'

// scripts/build.js bundles the browser script and defines this constant in
// dist/, so `npm start` and the container need neither esbuild nor src/.
// Run from source (tests, `npm run dev`), the script is bundled on first use.
declare const KEYGATE_PASSKEYS_JS: string | undefined

/** esbuild options for the browser bundle; scripts/build.js uses the same. */
const BROWSER_BUNDLE = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  write: false,
} as const

let bundled: Promise<string> | undefined

/** The passkeys script (src/http/pages/browser/passkeys.ts with @simplewebauthn/browser). */
export function passkeysScript(): Promise<string> {
  if (typeof KEYGATE_PASSKEYS_JS === 'string') return Promise.resolve(KEYGATE_PASSKEYS_JS)
  bundled ??= import('esbuild').then(async ({ build }) => {
    const entry = fileURLToPath(new URL('../browser/passkeys.ts', import.meta.url))
    const result = await build({ ...BROWSER_BUNDLE, entryPoints: [entry] })
    return result.outputFiles[0]?.text ?? ''
  })
  return bundled
}

/**
 * GET /assets/passkeys.js. Revalidated on every use (`no-cache` with an
 * ETag), so a new release never runs against a stale script.
 */
export const browserScriptRoutes: FastifyPluginAsync = async (app) => {
  // Made on first request, so an app that never serves it never bundles it.
  let tagged: Promise<{ script: string; etag: string }> | undefined
  app.get('/assets/passkeys.js', { schema: { hide: true } }, async (request, reply) => {
    tagged ??= passkeysScript().then((script) => ({
      script,
      etag: `"${createHash('sha256').update(script).digest('base64url').slice(0, 27)}"`,
    }))
    const { script, etag } = await tagged
    reply
      .header('cache-control', 'no-cache')
      .header('etag', etag)
      .header('cross-origin-resource-policy', 'same-origin')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type('text/javascript; charset=utf-8').send(script)
  })
}
