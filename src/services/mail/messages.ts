import type { Mail } from './mailer.js'

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * A mail as plain text and the same words as HTML. `paragraphs` are plain
 * text; `link` (if any) goes after the first one, as a line of its own in the
 * text and as an anchor in the HTML.
 */
export function composeMail(
  to: string,
  subject: string,
  paragraphs: string[],
  link?: string,
): Mail {
  const [first = '', ...rest] = paragraphs
  const text = [first, ...(link ? ['', link] : []), ...rest.flatMap((p) => ['', p]), ''].join('\n')
  const p = (s: string) => `<p>${escapeHtml(s)}</p>`
  const html = [
    '<!doctype html><html><body>',
    p(first),
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`] : []),
    ...rest.map(p),
    '</body></html>',
    '',
  ].join('\n')
  return { to, subject, text, html }
}
