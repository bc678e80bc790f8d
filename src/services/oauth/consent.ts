import type { User } from '../../domain/user.js'
import type { AuthorizationRequest } from './authorization-request.js'

/**
 * The consent step of an authorization (SPEC §7 "Consent"): the one place
 * that decides whether the user has agreed to what the client asks. For now
 * every client is let through as a first-party one is; the consent page and
 * remembered grants replace this service, and the authorization endpoint
 * already awaits its answer before any code is issued.
 */
export function createConsentService() {
  return {
    async decide(_request: AuthorizationRequest, _user: User): Promise<'granted'> {
      return 'granted'
    },
  }
}

export type ConsentService = ReturnType<typeof createConsentService>
