// The hosted pages' one script (CSP script-src 'self': no inline code). It
// drives WebAuthn for buttons the server renders, hidden until this script
// finds WebAuthn support:
//   <button type="button" hidden data-passkey="register|authenticate"
//     data-options="/passkeys/…/options" data-verify="/passkeys/…" data-csrf="…">
// Optional: data-name-input="ID" (an <input> whose value names a new passkey),
// data-status="ID" (a role=status element for messages; else a sibling is made).
// The server keeps the challenge (a cookie holds its handle); this script only
// carries options and answers between the server and the authenticator.
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
} from '@simplewebauthn/browser'

interface Answer {
  detail?: unknown
  redirect?: unknown
  options?: unknown
}

async function post(url: string, csrf: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body),
  })
  const answer = (await res.json().catch(() => ({}))) as Answer
  if (!res.ok) {
    const detail = typeof answer.detail === 'string' ? answer.detail : 'Something went wrong.'
    throw new Error(detail)
  }
  return answer
}

function statusFor(button: HTMLButtonElement): HTMLElement {
  const id = button.dataset.status
  const found = id ? document.getElementById(id) : null
  if (found) return found
  const made = document.createElement('p')
  made.setAttribute('role', 'status')
  button.after(made)
  button.dataset.status = made.id = `passkey-status-${Math.random().toString(36).slice(2)}`
  return made
}

function explain(err: unknown): string {
  // The person cancelled or the authenticator timed out: nothing was sent.
  if (err instanceof WebAuthnError && err.code === 'ERROR_CEREMONY_ABORTED') return 'Cancelled.'
  if (err instanceof Error && err.name === 'NotAllowedError') {
    return 'The passkey prompt was closed or timed out. Try again.'
  }
  return err instanceof Error ? err.message : 'Something went wrong.'
}

async function run(button: HTMLButtonElement): Promise<void> {
  const { passkey, options: optionsUrl, verify, csrf = '' } = button.dataset
  if (!optionsUrl || !verify) return
  const status = statusFor(button)
  button.disabled = true
  status.textContent = ''
  try {
    const { options } = await post(optionsUrl, csrf, {})
    const nameInput = button.dataset.nameInput
      ? (document.getElementById(button.dataset.nameInput) as HTMLInputElement | null)
      : null
    let answer: Answer
    if (passkey === 'register') {
      const response = await startRegistration({ optionsJSON: options as never })
      answer = await post(verify, csrf, { response, name: nameInput?.value || undefined })
    } else {
      const response = await startAuthentication({ optionsJSON: options as never })
      answer = await post(verify, csrf, { response })
    }
    status.textContent = 'Done.'
    // Only a path on this site is followed (the server sends nothing else).
    const to = typeof answer.redirect === 'string' ? answer.redirect : ''
    if (to.startsWith('/') && !to.startsWith('//')) window.location.assign(to)
    else window.location.reload()
  } catch (err) {
    status.textContent = explain(err)
    button.disabled = false
  }
}

if (browserSupportsWebAuthn()) {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-passkey]')) {
    button.hidden = false
    button.addEventListener('click', () => void run(button))
  }
}
