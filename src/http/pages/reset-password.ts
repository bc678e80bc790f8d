import type { FastifyPluginAsync, FastifyReply } from 'fastify'

// The page a mailed reset link opens (PUBLIC_URL/reset-password?token=…). It
// is static: the server never writes the token into it. The script reads the
// token, removes it from the address bar and history, and calls the JSON API.
// Paths are relative so the page also works behind a proxy under a prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Reset your password · Keygate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}#out{margin-top:1rem}</style>
</head>
<body>
<h1>Choose a new password</h1>
<form id="reset">
<label>New password <input name="password" type="password" autocomplete="new-password" required maxlength="1024"></label>
<label>Repeat it <input name="confirm" type="password" autocomplete="new-password" required maxlength="1024"></label>
<button type="submit">Set password</button>
</form>
<p id="out" role="status"></p>
<script src="reset-password.js"></script>
</body>
</html>
`

const SCRIPT = `'use strict'
const form = document.getElementById('reset')
const out = document.getElementById('out')
const token = new URLSearchParams(location.search).get('token') || ''
history.replaceState(null, '', location.pathname)
if (!token) out.textContent = 'This link is incomplete: ask for a new one.'
form.addEventListener('submit', async (event) => {
  event.preventDefault()
  if (form.password.value !== form.confirm.value) {
    out.textContent = 'The two passwords differ.'
    return
  }
  const res = await fetch('api/v1/auth/password-reset/confirm', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, new_password: form.password.value }),
  })
  if (res.status === 204) {
    form.hidden = true
    out.textContent = 'Your password has been changed. Every session was signed out: log in again.'
    return
  }
  const body = await res.json().catch(() => ({}))
  out.textContent =
    typeof body.detail === 'string' ? body.detail : (body.detail?.[0]?.msg ?? 'Something went wrong.')
})
`

const send = (reply: FastifyReply, type: string, body: string) => reply.type(type).send(body)

/** The browser page behind the mailed reset link. */
export const resetPageRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/reset-password',
    { schema: { hide: true }, config: { page: true, noStore: true } },
    async (_request, reply) => send(reply, 'text/html; charset=utf-8', PAGE),
  )
  app.get(
    '/reset-password.js',
    { schema: { hide: true }, config: { page: true, noStore: true } },
    async (_request, reply) => send(reply, 'text/javascript; charset=utf-8', SCRIPT),
  )
}
