import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import * as configModule from '../../src/config.js'
import { loadConfig } from '../../src/config.js'

// .env.example is the user's list of settings: it must name exactly what
// loadConfig reads, and its active lines must be the defaults.
const CONFIG_SOURCE = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8')
const EXAMPLE = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')

const NAME = '[A-Z][A-Z0-9_]*'

/** Every variable config.ts reads: `env.NAME`, `env['NAME']`, or a helper call `f(env, 'NAME', …)`. */
function namesReadByConfig(): Set<string> {
  const patterns = [
    new RegExp(`\\benv\\.(${NAME})\\b`, 'g'),
    new RegExp(`\\benv\\[\\s*['"](${NAME})['"]\\s*\\]`, 'g'),
    new RegExp(`\\w+\\(\\s*env\\s*,\\s*['"](${NAME})['"]`, 'g'),
  ]
  const names = new Set<string>()
  for (const pattern of patterns) {
    for (const match of CONFIG_SOURCE.matchAll(pattern)) names.add(match[1]!)
  }
  // An explicit list of setting names, if config.ts exports one, must agree too.
  for (const value of Object.values(configModule)) {
    const isNameList =
      Array.isArray(value) &&
      value.includes('DATABASE_URL') &&
      value.every((v) => typeof v === 'string' && new RegExp(`^${NAME}$`).test(v))
    if (isNameList) for (const name of value as string[]) names.add(name)
  }
  return names
}

interface ExampleLine {
  name: string
  active: boolean
}

/** `NAME=value` (a default) and `# NAME=value` (no fixed default; an example value). */
function exampleLines(): ExampleLine[] {
  const line = new RegExp(`^(#\\s*)?(${NAME})=`)
  return EXAMPLE.split('\n').flatMap((text) => {
    const m = line.exec(text)
    return m ? [{ name: m[2]!, active: m[1] === undefined }] : []
  })
}

describe('.env.example', () => {
  const read = namesReadByConfig()
  const lines = exampleLines()
  const listed = lines.map((l) => l.name)

  it('finds the variables config.ts reads (the scan itself works)', () => {
    for (const name of ['NODE_ENV', 'DATABASE_URL', 'SECRET_KEY', 'FIRST_SUPERUSER_PASSWORD']) {
      expect(read).toContain(name)
    }
    expect(read.size).toBeGreaterThanOrEqual(40)
  })

  it('lists every variable loadConfig reads', () => {
    expect([...read].filter((name) => !listed.includes(name))).toEqual([])
  })

  it('lists nothing loadConfig does not read', () => {
    expect(listed.filter((name) => !read.has(name))).toEqual([])
  })

  it('lists each variable once', () => {
    expect(listed.filter((name, i) => listed.indexOf(name) !== i)).toEqual([])
  })

  it('gives each variable a line of meaning above it', () => {
    const text = EXAMPLE.split('\n')
    const undocumented = lines.filter(({ name }) => {
      let i = text.findIndex((t) => new RegExp(`^(#\\s*)?${name}=`).test(t)) - 1
      // FIRST_SUPERUSER_EMAIL and _PASSWORD share one line of meaning.
      while (i >= 0 && new RegExp(`^#\\s*${NAME}=`).test(text[i]!)) i--
      return !(i >= 0 && /^#\s+\S/.test(text[i]!))
    })
    expect(undocumented.map((l) => l.name)).toEqual([])
  })

  it('has active lines that parse to exactly the defaults of an empty environment', () => {
    // node's own .env parser: what Keygate's loadDotEnv (process.loadEnvFile) reads.
    const parsed = parseEnv(EXAMPLE)
    expect(Object.keys(parsed).sort()).toEqual(
      lines
        .filter((l) => l.active)
        .map((l) => l.name)
        .sort(),
    )
    expect(loadConfig(parsed)).toEqual(loadConfig({}))
  })

  it('has commented-out examples that loadConfig accepts, all together', () => {
    // Secrets are left empty (no example value to copy), and so count as unset.
    const uncommented = EXAMPLE.split('\n')
      .map((t) => t.replace(new RegExp(`^#\\s*(${NAME}=)(?=.)`), '$1'))
      .join('\n')
    const env = parseEnv(uncommented)
    expect(() => loadConfig(env)).not.toThrow()
  })
})
