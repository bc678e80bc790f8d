import type { FastifyReply, FastifyRequest } from 'fastify'
import { Link, sendPage } from './layout.js'

// A person reads these: one sentence saying what happened and what to do.
// Never a stack, a code path or the submitted values.
const PAGES: Record<number, { title: string; sentence: string }> = {
  400: {
    title: 'Something is wrong with this request',
    sentence: 'This request could not be understood. Go back and try again.',
  },
  403: {
    title: 'This form could not be accepted',
    sentence:
      'The form has expired or was sent from another site. Go back, reload the page and try again.',
  },
  404: { title: 'Page not found', sentence: 'There is nothing at this address.' },
  413: { title: 'Too much data', sentence: 'The form sent more data than Keygate accepts.' },
  429: {
    title: 'Too many attempts',
    sentence: 'There have been too many attempts. Wait a little, then try again.',
  },
  503: {
    title: 'Briefly unavailable',
    sentence: 'Keygate cannot answer right now. Try again in a few seconds.',
  },
  500: {
    title: 'Something went wrong',
    sentence: 'Something went wrong on our side. Try again later.',
  },
}

/**
 * The human error page for a status; `sentence` (and `title`) replace the
 * default ones (e.g. "unknown client").
 */
export function sendErrorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  sentence?: string,
  title?: string,
) {
  const page = PAGES[status] ?? (status >= 500 ? PAGES[500] : PAGES[400])
  return sendPage(
    request,
    reply,
    { title: title ?? page?.title ?? '', status },
    <>
      <p>{sentence ?? page?.sentence}</p>
      <p class="links">
        <Link href="/account">Go to your account</Link>
      </p>
    </>,
  )
}
