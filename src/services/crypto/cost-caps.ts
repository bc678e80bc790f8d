/**
 * The most a stored hash may cost to verify. A hash is data from an import
 * file or an old database: `$2b$31$` or Argon2 at 4 GiB / t=100 would pin a
 * hashing thread for minutes at each login attempt, stall every other legacy
 * verification behind it, and hold up shutdown. Each cap is about one second
 * of one core (measured on the 2-core build machine, under load, see
 * docs/decisions/legacy-hash-timing.md): bcrypt 12 took 255 ms, 14 took 1.0 s;
 * PBKDF2-SHA256 at 1M rounds 225 ms, SHA-512 562 ms; Argon2id 256 MiB t=4 435 ms.
 * They are well above what passlib and argon2-cffi write by default (bcrypt 12,
 * pbkdf2-sha256 29,000 rounds, Argon2 64 MiB t=3). A hash over its cap is
 * refused by `import-users` ("cost too high") and fails verification at once,
 * without running; that user signs in again after a password reset.
 */
export const COST_CAPS = {
  /** bcrypt and bcrypt-sha256 log2 rounds */
  bcryptCost: 14,
  /** PBKDF2 iterations, any digest */
  pbkdf2Rounds: 2_000_000,
  /** Argon2 memory in KiB (256 MiB), unless the configured memory is higher */
  argon2MemoryKiB: 256 * 1024,
  /** Argon2 memory × passes in KiB (1 GiB·pass), unless the configured product is higher */
  argon2Work: 256 * 1024 * 4,
  /** Argon2 lanes (the configuration allows up to 16 for Keygate's own hashes) */
  argon2Lanes: 16,
} as const

/** What is wrong with a stored hash, if anything: not one Keygate reads, or too costly to verify. */
export type HashProblem = 'unsupported' | 'cost too high'
