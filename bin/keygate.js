#!/usr/bin/env node
// `keygate <command>`: runs the built CLI (npm ci builds dist/ through `prepare`).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'dist/main.js'))) {
  console.error('keygate: dist/ is missing; run `npm run build` first')
  process.exit(1)
}
await import(pathToFileURL(join(root, 'dist/main.js')).href)
