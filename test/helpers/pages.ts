import type { FastifyInstance } from 'fastify'

/** A browser's cookie jar in miniature, for app.inject. */
export class Jar {
  readonly cookies = new Map<string, string>()
  /** The Set-Cookie lines of the last answer, verbatim. */
  lastSetCookie: string[] = []

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  take(setCookie: string | string[] | undefined): void {
    const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]
    this.lastSetCookie = lines
    for (const line of lines) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

/** The hidden csrf_token of the first form in a page. */
export const csrfOf = (html: string): string =>
  /name="csrf_token" value="([^"]*)"/.exec(html)?.[1] ?? ''

/** A small inject-driven browser: same origin, cookies kept, forms posted with their token. */
export function pageClient(app: FastifyInstance, origin: string, remoteAddress = '127.0.0.1') {
  const jar = new Jar()
  const get = async (url: string) => {
    const res = await app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: { cookie: jar.header() },
    })
    jar.take(res.headers['set-cookie'])
    return res
  }
  const post = async (
    url: string,
    /** a list is sent as the same name repeated (checkbox groups) */
    fields: Record<string, string | string[]>,
    opts: {
      origin?: string | null
      csrf?: string | null
      from?: string
      headers?: Record<string, string>
    } = {},
  ) => {
    const token =
      opts.csrf === undefined
        ? csrfOf((await get(opts.from ?? url)).body)
        : (opts.csrf ?? undefined)
    const body = new URLSearchParams(
      Object.entries(fields).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x])),
    )
    if (token !== undefined) body.set('csrf_token', token)
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: jar.header(),
    }
    const sentOrigin = opts.origin === undefined ? origin : opts.origin
    if (sentOrigin !== null) headers.origin = sentOrigin
    Object.assign(headers, opts.headers)
    const res = await app.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers,
      payload: body.toString(),
    })
    jar.take(res.headers['set-cookie'])
    return res
  }
  return { jar, get, post }
}

/** Signs in through the page; the client then holds the browser session cookie. */
export async function signInPage(
  client: ReturnType<typeof pageClient>,
  user: { email: string; password: string },
) {
  const res = await client.post('/signin', { username: user.email, password: user.password })
  if (res.statusCode !== 303) throw new Error(`sign-in page answered ${res.statusCode}`)
  return res
}
