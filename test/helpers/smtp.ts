import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { onTestFinished } from 'vitest'

export interface ReceivedMail {
  from: string | undefined
  to: string[]
  raw: string
}

/**
 * A real SMTP server on 127.0.0.1, a random port, in the test process. No
 * TLS and no auth. Stopped when the current test finishes.
 */
export async function startSmtpServer(
  options: {
    hold?: boolean
    /** mails accepted but kept out of the inbox (a test about other mail skips signup's) */
    ignore?: (raw: string) => boolean
  } = {},
) {
  let release: () => void = () => {}
  // With `hold`, every message waits in DATA until release() is called.
  const gate = options.hold ? new Promise<void>((r) => (release = r)) : Promise.resolve()
  const inbox: ReceivedMail[] = []
  const waiters: ((mail: ReceivedMail) => void)[] = []
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        await gate
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        }
        if (!options.ignore?.(mail.raw)) {
          inbox.push(mail)
          waiters.shift()?.(mail)
        }
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  let taken = 0
  return {
    url: `smtp://127.0.0.1:${port}`,
    inbox,
    release: () => release(),
    /** The next mail not yet returned, waiting for it if need be. */
    nextMail(): Promise<ReceivedMail> {
      const ready = inbox[taken]
      taken++
      if (ready) return Promise.resolve(ready)
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
}

/** The verification mail signup sends (SPEC §9). */
export const isVerificationMail = (raw: string) => /^Subject: Verify your email address$/m.test(raw)

/** The token of the verify-email link in a mail (verification and email change alike). */
export function verifyTokenIn(raw: string): string {
  const match = /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(raw)
  if (!match?.[1]) throw new Error('no verify-email link in the mail')
  return match[1]
}

/** The reset token carried by the link in a mail. */
export function resetTokenIn(raw: string): string {
  const match = /\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(raw)
  if (!match?.[1]) throw new Error('no reset link in the mail')
  return match[1]
}
