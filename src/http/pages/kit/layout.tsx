import type { FastifyReply, FastifyRequest } from 'fastify'
import { type ComponentChildren, createContext } from 'preact'
import { useContext } from 'preact/hooks'
import { render } from 'preact-render-to-string'
import { HOSTED_PAGE_HEADERS, hostedPageCsp } from '../../plugins/response-headers.js'

// Every page is a Preact tree rendered to a string: text and attributes are
// escaped by the renderer, never by hand. No inline script or style (the CSP
// forbids both): the look is /assets/keygate.css.

/** What every component of a page may read: the path prefix of PUBLIC_URL and the form token. */
export interface PageEnv {
  /** PUBLIC_URL's path without the trailing slash ('' at the root) */
  base: string
  /** the CSRF token every form carries (http/pages/kit/page-context.ts) */
  csrf: string
}

const Env = createContext<PageEnv>({ base: '', csrf: '' })

/** The page environment, for components of pages. */
export const usePage = () => useContext(Env)

/** A Keygate path as the browser must request it (behind a proxy prefix too). */
export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  const { base } = usePage()
  return (
    <a href={`${base}${props.href}`} class={props.class}>
      {props.children}
    </a>
  )
}

/**
 * A POST form to a Keygate path, always with its hidden `csrf_token`: a page
 * cannot forget it, and page-context.ts refuses any page POST without it.
 */
export function Form(props: {
  action: string
  children: ComponentChildren
  class?: string
  label?: string
}) {
  const { base, csrf } = usePage()
  return (
    <form
      method="post"
      action={`${base}${props.action}`}
      class={props.class}
      aria-label={props.label}
    >
      <input type="hidden" name="csrf_token" value={csrf} />
      {props.children}
    </form>
  )
}

/** Errors per field name; '' holds the form's own error. */
export type FieldErrors = Record<string, string | undefined>

/** A labelled input whose error text is tied to it (aria-describedby, aria-invalid). */
export function Field(props: {
  name: string
  label: string
  type?: 'text' | 'email' | 'password'
  autocomplete: string
  value?: string
  error?: string
  hint?: string
  required?: boolean
  /** the element id, when one page has two fields of one name */
  id?: string
  autofocus?: boolean
  /** the on-screen keyboard: digits for one-time codes */
  inputmode?: 'numeric'
}) {
  const id = props.id ?? props.name
  const described = [props.hint && `${id}-hint`, props.error && `${id}-error`]
    .filter(Boolean)
    .join(' ')
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint && (
        <p id={`${id}-hint`} class="hint">
          {props.hint}
        </p>
      )}
      <input
        id={id}
        name={props.name}
        // Preact types each input type separately; the union is what this component offers.
        {...({ type: props.type ?? 'text' } as { type: 'text' })}
        autocomplete={props.autocomplete}
        value={props.value}
        required={props.required}
        autofocus={props.autofocus}
        inputmode={props.inputmode}
        maxLength={1024}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.error && (
        <p id={`${id}-error`} class="error">
          {props.error}
        </p>
      )}
    </div>
  )
}

/** A message about the whole form or page, announced by screen readers. */
export function Notice(props: { kind: 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  )
}

function Layout(props: { title: string; head?: ComponentChildren; children: ComponentChildren }) {
  const { base } = usePage()
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Keygate`}</title>
        <link rel="stylesheet" href={`${base}/assets/keygate.css`} />
        {props.head}
      </head>
      <body>
        <header class="site">
          <Link href="/account">Keygate</Link>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/** The page environment of a request (set by page-context.ts; a bare one outside it). */
export const pageEnvOf = (request: FastifyRequest): PageEnv =>
  request.pageEnv ?? { base: '', csrf: '' }

export interface PageOptions {
  title: string
  status?: number
  /** origins a form on this page may lead to (CSP form-action covers the redirects after a post) */
  formAction?: string[]
  /** extra elements for <head> (a meta refresh) */
  head?: ComponentChildren
}

/** Renders a page into the reply with the hosted pages' headers (also usable outside their context). */
export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: PageOptions,
  body: ComponentChildren,
) {
  const html = render(
    <Env.Provider value={pageEnvOf(request)}>
      <Layout title={options.title} head={options.head}>
        {body}
      </Layout>
    </Env.Provider>,
  )
  return reply
    .headers(HOSTED_PAGE_HEADERS)
    .header('content-security-policy', hostedPageCsp(options.formAction))
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${html}`)
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set on hosted pages by page-context.ts */
    pageEnv: PageEnv | null
  }
}
