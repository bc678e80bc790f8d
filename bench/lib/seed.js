// Seeds a fresh Keygate through its public API: one user, its token, 100 posts.
const PASSWORD = 'correct horse battery staple'

async function call(url, path, init) {
  const res = await fetch(url + path, init)
  const body = await res.json().catch(() => null)
  if (!res.ok)
    throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`)
  return body
}

export async function seed(url, posts = 100) {
  const email = 'bench@example.com'
  const json = { 'content-type': 'application/json' }
  await call(url, '/api/v1/auth/signup', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, username: 'bench', password: PASSWORD }),
  })
  const tokens = await call(url, '/api/v1/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: email, password: PASSWORD }).toString(),
  })
  const headers = { ...json, authorization: `Bearer ${tokens.access_token}` }
  for (let i = 0; i < posts; i++) {
    await call(url, '/api/v1/posts', {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: `Post ${i}`, content: `Seeded post number ${i}.` }),
    })
  }
  return { email, password: PASSWORD, token: tokens.access_token }
}
