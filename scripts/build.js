// `npm run build`: src/ bundled with esbuild into dist/main.js plus dist/chunks/
// (type-checking is `npm run typecheck`, part of `npm test`). A bundle starts faster
// and idles smaller than ~1,500 ES modules: docs/decisions/node-flags-and-bundle.md.
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

// Left to node_modules: native addons, and packages that read their own files at
// run time (Swagger UI's static assets). pg, ioredis, nodemailer and the password
// list are loaded on demand through createRequire, which esbuild leaves alone.
const external = ['better-sqlite3', '@node-rs/argon2', '@node-rs/bcrypt', '@fastify/swagger-ui']

const outdir = process.argv[2] ?? 'dist'
rmSync(outdir, { recursive: true, force: true })

// The hosted pages' browser script (passkeys, with @simplewebauthn/browser), bundled
// first and written into the server bundle as a constant: dist/ needs no asset files.
// Options as BROWSER_BUNDLE in src/http/pages/kit/browser-scripts.ts.
const passkeys = await build({
  entryPoints: ['src/http/pages/browser/passkeys.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
})

await build({
  entryPoints: ['src/main.ts'],
  outdir,
  // The HTTP layer is imported dynamically (src/cli/serve.ts), so it becomes a
  // chunk of its own that a cluster primary and the CLI commands never load.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // esbuild is loaded only when running from source (no prebuilt script).
  external: [...external, 'esbuild'],
  define: { KEYGATE_PASSKEYS_JS: JSON.stringify(passkeys.outputFiles[0].text) },
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __keygateRequire } from 'node:module';\nconst require = __keygateRequire(import.meta.url);",
  },
  // Not minified, so names stay readable; node --enable-source-maps maps stacks to src/.
  sourcemap: 'linked',
  logLevel: 'warning',
})
