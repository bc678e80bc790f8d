import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'

// nodemailer is loaded only with SMTP_URL set: idle memory stays low without it.
const load = createRequire(import.meta.url)

export interface Mail {
  to: string
  subject: string
  text: string
  /** an HTML alternative of `text` (multipart/alternative) */
  html?: string
}

export interface Mailer {
  send(mail: Mail): Promise<void>
  close(): void
}

/**
 * The message as 7bit text. Left to itself nodemailer quoted-printable-encodes
 * any body with a line over 76 characters, which a reset link always is, and
 * QP turns `token=` into `token=3D` and breaks the link across lines for any
 * reader that does not decode it. RFC 5322 allows lines up to 998.
 */
function compose(from: string, mail: Mail) {
  const MimeNode = (load('nodemailer/lib/mime-node') as typeof import('nodemailer/lib/mime-node'))
    .default
  const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n')
  const encodingOf = (s: string) => (/^[\x20-\x7e\r\n\t]*$/.test(s) ? '7bit' : '8bit')
  const text = crlf(mail.text)
  if (mail.html === undefined) {
    const node = new MimeNode('text/plain; charset=utf-8')
    node.setHeader({ From: from, To: mail.to, Subject: mail.subject })
    return {
      envelope: node.getEnvelope(),
      raw: `${node.buildHeaders()}\r\nContent-Transfer-Encoding: ${encodingOf(text)}\r\n\r\n${text}`,
    }
  }
  // Both parts built by hand for the same reason: no quoted-printable links.
  const boundary = `keygate-${randomBytes(12).toString('hex')}`
  const node = new MimeNode(`multipart/alternative; boundary="${boundary}"`)
  node.setHeader({ From: from, To: mail.to, Subject: mail.subject })
  const html = crlf(mail.html)
  const part = (type: string, body: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: ${encodingOf(body)}\r\n\r\n${body}\r\n`
  return {
    envelope: node.getEnvelope(),
    raw: `${node.buildHeaders()}\r\n\r\n${part('text/plain', text)}${part('text/html', html)}--${boundary}--\r\n`,
  }
}

/** An SMTP mailer for SMTP_URL (`smtp://user:pass@host:port`, or `smtps://`), or none. */
export function createMailer(smtpUrl: string | undefined, from: string): Mailer | undefined {
  if (smtpUrl === undefined) return undefined
  const nodemailer = load('nodemailer') as typeof import('nodemailer')
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    // Bounded, so a dead mail server cannot hold a shutdown for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  })
  return {
    async send(mail) {
      await transport.sendMail(compose(from, mail))
    },
    close: () => transport.close(),
  }
}
