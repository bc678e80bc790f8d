import { hash as argon2Hash } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import { createPasswordHasher } from '../../src/services/crypto/passwords.js'

// Known-answer vectors published in passlib 1.7.4's own test suite
// (passlib/tests/test_handlers_bcrypt.py, test_handlers_pbkdf2.py).
const UPASS_TABLE = 't\u00e1\u0411\u2113\u0259'
const UPASS_WAV = '\u0399\u03c9\u03b1\u03bd\u03bd\u03b7\u03c2'
const ABC72 = 'abc123'.repeat(12)

const KNOWN: [string, string][] = [
  ['password', '$bcrypt-sha256$2a,5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu'],
  ['password', '$bcrypt-sha256$2b,5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu'],
  [UPASS_TABLE, '$bcrypt-sha256$2a,5$.US1fQ4TQS.ZTz/uJ5Kyn.$QNdPDOTKKT5/sovNz1iWg26quOU4Pje'],
  [`${ABC72}qwr`, '$bcrypt-sha256$2b,5$X1g1nh3g0v4h6970O68cxe$021KLEif6epjot5yoxk0m8I0929ohEa'],
  [`${ABC72}xyz`, '$bcrypt-sha256$2b,5$X1g1nh3g0v4h6970O68cxe$7.1kgpHduMGEjvM3fX6e/QCvfn6OKja'],
  ['', '$bcrypt-sha256$v=2,t=2b,r=5$E/e/2AOhqM5W/KJTFQzLce$WFPIZKtDDTriqWwlmRFfHiOTeheAZWe'],
  [
    'password',
    '$bcrypt-sha256$v=2,t=2b,r=5$5Hg1DKFqPE8C2aflZ5vVoe$wOK1VFFtS8IGTrGa7.h5fs0u84qyPbS',
  ],
  [
    UPASS_TABLE,
    '$bcrypt-sha256$v=2,t=2b,r=5$.US1fQ4TQS.ZTz/uJ5Kyn.$pzzgp40k8reM1CuQb03PvE0IDPQSdV6',
  ],
  [
    `${ABC72}qwr`,
    '$bcrypt-sha256$v=2,t=2b,r=5$X1g1nh3g0v4h6970O68cxe$CBF9csfEdW68xv3DwE6xSULXMtqEFP.',
  ],
  [
    `${ABC72}xyz`,
    '$bcrypt-sha256$v=2,t=2b,r=5$X1g1nh3g0v4h6970O68cxe$zC/1UDUG2ofEXB6Onr2vvyFzfhEOS3S',
  ],
  [
    'password',
    '$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ',
  ],
  [
    UPASS_WAV,
    '$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI',
  ],
  [
    'password',
    '$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww',
  ],
  ['password', '$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI'],
  [UPASS_WAV, '$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc'],
  // bcrypt: OpenBSD/py-bcrypt vectors as passlib carries them
  ['abc', '$2a$10$WvvTPHKwdBJ3uk0Z37EMR.hLA2W6N9AEBhEgrAOljy2Ae5MtaSIUi'],
  [UPASS_TABLE, '$2b$05$Z17AXnnlpzddNUvnC6cZNOSwMA/8oNiKnHTHTwLlBijfucQQlHjaG'],
]

// passlib's known_malformed_hashes, plus our own bounds.
const MALFORMED = [
  '$bcrypt-sha256$2a,5$5Hg1DKF!PE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$2c,5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$2a,05$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$2a,5$5Hg1DKFqPE8C2aflZ5vVoe$',
  '$bcrypt-sha256$v=1,t=2b,r=5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$v=3,t=2b,r=5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$v=2,t=2a,r=5$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$v=2,t=2b,r=05$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$bcrypt-sha256$v=2,t=2b,r=3$5Hg1DKFqPE8C2aflZ5vVoe$12BjNE0p7axMg55.Y/mHsYiVuFBDQyu',
  '$pbkdf2$01212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc',
  '$pbkdf2$$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc',
  '$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc$',
  '$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tm',
  '$pbkdf2-sha256$99999999$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ',
  '$pbkdf2-sha1$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI',
  '$2x$10$WvvTPHKwdBJ3uk0Z37EMR.hLA2W6N9AEBhEgrAOljy2Ae5MtaSIUi',
  '$2b$10$WvvTPHKwdBJ3uk0Z37EMR.hLA2W6N9AEBhEgrAOljy2Ae5MtaSIU',
  '$2b$03$WvvTPHKwdBJ3uk0Z37EMR.hLA2W6N9AEBhEgrAOljy2Ae5MtaSIUi',
  '$argon2id$v=19$m=65536,t=3,p=4$JKTUurf2PofwHsOYM2YMIQ',
  '$argon2id$v=19$m=99999999,t=3,p=4$JKTUurf2PofwHsOYM2YMIQ$TQz31TCAtVpeNWcjYiFcoA',
  '$argon2x$v=19$m=65536,t=3,p=4$JKTUurf2PofwHsOYM2YMIQ$TQz31TCAtVpeNWcjYiFcoA',
  '$1$abcdefgh$0123456789abcdefghijkl',
  'd033e22ae348aeb5660fc2140aec35850c4da997',
  'plaintext-password',
  '',
]

const hasher = () => createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, 2)

describe('passlib formats', () => {
  it.each(KNOWN)('verifies %j against its passlib hash and asks for a re-hash', async (pw, h) => {
    const passwords = hasher()
    expect(passwords.isSupportedHash(h)).toBe(true)
    expect(await passwords.verify(h, pw)).toEqual({ ok: true, needsRehash: true })
    expect(await passwords.verify(h, `${pw}!`)).toEqual({ ok: false, needsRehash: false })
  })

  it.each(MALFORMED)('rejects the malformed or unknown hash %j', async (h) => {
    const passwords = hasher()
    expect(passwords.isSupportedHash(h)).toBe(false)
    expect((await passwords.verify(h, 'password')).ok).toBe(false)
  })

  it('checks bcrypt against the first 72 UTF-8 bytes only, as passlib did', async () => {
    const passwords = hasher()
    // '€' is 3 bytes: 24 of them are exactly 72 bytes, so anything after is ignored.
    const long = '€'.repeat(24)
    const { hash } = await import('@node-rs/bcrypt')
    const stored = await hash(Buffer.from(long), 4)
    expect((await passwords.verify(stored, `${long}tail ignored`)).ok).toBe(true)
    expect((await passwords.verify(stored, '€'.repeat(23))).ok).toBe(false)
  })

  it('keeps an Argon2id at least as strong as configured, replaces a weaker one and Argon2i', async () => {
    const passwords = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 }, 2)
    const make = (algorithm: number, memoryCost: number, timeCost: number) =>
      argon2Hash('pw', { algorithm, memoryCost, timeCost, parallelism: 2 })
    expect(await passwords.verify(await make(2, 4096, 2), 'pw')).toEqual({
      ok: true,
      needsRehash: false,
    })
    const weakerOnes = [
      await make(2, 1024, 2), // Argon2id, less memory
      await make(2, 2048, 1), // Argon2id, fewer passes
      await make(1, 4096, 3), // Argon2i
      await make(0, 4096, 3), // Argon2d
    ]
    for (const weaker of weakerOnes) {
      expect(passwords.isSupportedHash(weaker)).toBe(true)
      expect(await passwords.verify(weaker, 'pw')).toEqual({ ok: true, needsRehash: true })
    }
  })
})
