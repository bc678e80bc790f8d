/** Every scope Keygate knows (SPEC §6), in the order discovery lists them. */
export const SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'posts:write',
  'account',
  'admin',
] as const

export type Scope = (typeof SCOPES)[number]
