import type { FastifyPluginAsync } from 'fastify'

// The one stylesheet of the hosted pages. It lives in the code, not a file,
// so `dist/` and bundles need no copy step. Readable on a phone: one column,
// 16px text (no zoom on focus in iOS), large targets, visible focus.
const STYLESHEET = `*,*::before,*::after{box-sizing:border-box}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}
body{margin:0}
header.site{padding:.75rem 1rem;background:#fff;border-bottom:1px solid #d9dde3}
header.site a{font-weight:600;color:inherit;text-decoration:none}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:2rem 0 .5rem}
a{color:#0b57d0}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=password]{display:block;width:100%;padding:.6rem;font:inherit;border:1px solid #8a94a3;border-radius:.375rem;background:#fff}
input[aria-invalid=true]{border-color:#b3261e}
.hint{margin:0 0 .25rem;color:#4a5361;font-size:.9rem}
.error{margin:.25rem 0 0;color:#b3261e}
button{font:inherit;padding:.6rem 1.1rem;border-radius:.375rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;min-height:2.75rem}
button.secondary{background:#fff;color:#0b57d0}
:focus-visible{outline:3px solid #f0a400;outline-offset:2px}
.notice{padding:.75rem 1rem;border-radius:.375rem;margin:0 0 1rem}
.notice.error{background:#fce8e6;color:#7a1a14}
.notice.info{background:#e8f0fe;color:#0b3d91}
.sessions{list-style:none;padding:0;margin:0}
.sessions li{background:#fff;border:1px solid #d9dde3;border-radius:.375rem;padding:.75rem;margin:0 0 .5rem}
.sessions form{margin-top:.5rem}
.muted{color:#4a5361;font-size:.9rem}
.links{margin-top:1.5rem}
h3{font-size:1rem;margin:1.25rem 0 .25rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
img.qr{display:block;width:12.5rem;height:12.5rem;margin:0 0 1rem;background:#fff}
.codes{font-size:1.05rem;columns:2;margin:0 0 1rem}
.admin-nav{display:flex;gap:1rem;margin:0 0 1rem}
table.admin{display:block;overflow-x:auto;border-collapse:collapse;font-size:.9rem;margin:0 0 1rem}
table.admin th,table.admin td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #d9dde3;vertical-align:top}
textarea,select,input[type=search]{display:block;width:100%;padding:.6rem;font:inherit;border:1px solid #8a94a3;border-radius:.375rem;background:#fff}
fieldset{border:1px solid #d9dde3;border-radius:.375rem}
label.check{font-weight:400}
.actions,.pager{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:1rem 0}
.details dt{font-weight:600}
.details dd{margin:0 0 .5rem;overflow-wrap:anywhere}
.secret{font-family:monospace;overflow-wrap:anywhere;background:#fff;border:1px solid #d9dde3;padding:.5rem}
`

/** GET /assets/keygate.css: public and cacheable (it holds nothing personal). */
export const assetRoutes: FastifyPluginAsync = async (app) => {
  app.get('/assets/keygate.css', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=86400')
      .header('cross-origin-resource-policy', 'same-origin')
      .type('text/css; charset=utf-8')
      .send(STYLESHEET),
  )
}
