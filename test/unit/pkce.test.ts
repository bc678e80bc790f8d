import { describe, expect, it } from 'vitest'
import { pkceMatches } from '../../src/services/oauth/pkce.js'

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

describe('pkceMatches (S256)', () => {
  it('accepts the RFC 7636 Appendix B pair and nothing near it', () => {
    expect(pkceMatches(VERIFIER, CHALLENGE)).toBe(true)
    expect(pkceMatches(`${VERIFIER.slice(0, -1)}l`, CHALLENGE)).toBe(false)
    expect(pkceMatches(VERIFIER, `${CHALLENGE.slice(0, -1)}N`)).toBe(false)
    // plain: the challenge presented as its own verifier.
    expect(pkceMatches(CHALLENGE, CHALLENGE)).toBe(false)
  })

  it('refuses a missing, short, long or malformed verifier', () => {
    for (const v of [undefined, '', 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`]) {
      expect(pkceMatches(v, CHALLENGE)).toBe(false)
    }
  })
})
