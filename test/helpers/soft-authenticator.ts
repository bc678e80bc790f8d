import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import { isoCBOR } from '@simplewebauthn/server/helpers'

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest()

// Authenticator data flags (WebAuthn §6.1).
const UP = 0x01
const UV = 0x04
const BE = 0x08
const BS = 0x10
const AT = 0x40

export interface Credential {
  id: Buffer
  key: KeyObject
  userHandle: string
  counter: number
}

/**
 * A software WebAuthn authenticator (ES256, "none" attestation) that answers
 * the options Keygate sends the way a browser would, so services can be tested
 * without Chromium. `origin`/`rpId` may be set to forge answers from elsewhere.
 */
export function createSoftAuthenticator(
  opts: { origin: string; userVerified?: boolean; synced?: boolean; counterStep?: number } = {
    origin: 'http://localhost:8000',
  },
) {
  const credentials: Credential[] = []
  const step = opts.counterStep ?? 1
  const flags = () => UP | (opts.userVerified === false ? 0 : UV) | (opts.synced ? BE | BS : 0)

  function authData(rpId: string, flagBits: number, counter: number, attested?: Buffer) {
    const head = Buffer.alloc(37)
    sha256(rpId).copy(head, 0)
    head[32] = flagBits
    head.writeUInt32BE(counter, 33)
    return attested ? Buffer.concat([head, attested]) : head
  }

  const clientData = (type: string, challenge: string, origin: string) =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }))

  return {
    credentials,

    register(
      options: PublicKeyCredentialCreationOptionsJSON,
      forge: { origin?: string; rpId?: string; challenge?: string; reuse?: Credential } = {},
    ): RegistrationResponseJSON {
      const privateKey =
        forge.reuse?.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
      const cose = isoCBOR.encode(
        new Map<number, number | Uint8Array>([
          [1, 2], // kty: EC2
          [3, -7], // alg: ES256
          [-1, 1], // crv: P-256
          [-2, new Uint8Array(Buffer.from(String(jwk.x), 'base64url'))],
          [-3, new Uint8Array(Buffer.from(String(jwk.y), 'base64url'))],
        ]),
      )
      const id = forge.reuse?.id ?? randomBytes(16)
      const idLength = Buffer.alloc(2)
      idLength.writeUInt16BE(id.length)
      const attested = Buffer.concat([Buffer.alloc(16), idLength, id, Buffer.from(cose)])
      const rpId = forge.rpId ?? options.rp.id ?? ''
      const data = authData(rpId, flags() | AT, 0, attested)
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Map<string, never> | Uint8Array>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, never>()],
          ['authData', new Uint8Array(data)],
        ]),
      )
      credentials.push({ id, key: privateKey, userHandle: options.user.id, counter: 0 })
      const challenge = forge.challenge ?? options.challenge
      return {
        id: b64u(id),
        rawId: b64u(id),
        type: 'public-key',
        response: {
          clientDataJSON: b64u(
            clientData('webauthn.create', challenge, forge.origin ?? opts.origin),
          ),
          attestationObject: b64u(attestationObject),
          transports: ['internal'],
        },
        clientExtensionResults: {},
      }
    },

    /** Signs an assertion with the first allowed credential (or the first it holds). */
    authenticate(
      options: PublicKeyCredentialRequestOptionsJSON,
      forge: { origin?: string; rpId?: string; credential?: Credential; userHandle?: string } = {},
    ): AuthenticationResponseJSON {
      const allowed = options.allowCredentials?.map((c) => c.id)
      const cred =
        forge.credential ??
        credentials.find((c) => !allowed || allowed.includes(b64u(c.id))) ??
        credentials[0]
      if (!cred) throw new Error('soft authenticator: no credential')
      cred.counter += step
      const data = authData(forge.rpId ?? options.rpId ?? '', flags(), cred.counter)
      const cdj = clientData('webauthn.get', options.challenge, forge.origin ?? opts.origin)
      const signature = sign('sha256', Buffer.concat([data, sha256(cdj)]), cred.key)
      return {
        id: b64u(cred.id),
        rawId: b64u(cred.id),
        type: 'public-key',
        response: {
          clientDataJSON: b64u(cdj),
          authenticatorData: b64u(data),
          signature: b64u(signature),
          userHandle: forge.userHandle ?? cred.userHandle,
        },
        clientExtensionResults: {},
      }
    },
  }
}
