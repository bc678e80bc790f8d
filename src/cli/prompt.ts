/** Reading a password without it ever passing through argv, the shell history or the screen. */
export type Input = NodeJS.ReadableStream & {
  isTTY?: boolean
  setRawMode?: (raw: boolean) => unknown
}

export class PromptError extends Error {
  override name = 'PromptError'
}

/**
 * A password from the terminal with echo off, asked twice; or, when stdin is
 * piped, its first line (the rest is ignored).
 */
export async function readNewPassword(input: Input, output: NodeJS.WritableStream) {
  if (!input.isTTY) return readFirstLine(input)
  const lines = hiddenLines(input)
  try {
    output.write('Password: ')
    const password = await lines.next()
    output.write('\nRepeat password: ')
    const again = await lines.next()
    output.write('\n')
    if (password !== again) throw new PromptError('the passwords do not match')
    return password
  } finally {
    lines.close()
  }
}

export async function readFirstLine(input: Input): Promise<string> {
  input.setEncoding('utf8')
  let text = ''
  for await (const chunk of input) {
    text += chunk as string
    const newline = text.indexOf('\n')
    if (newline >= 0) {
      text = text.slice(0, newline)
      break
    }
  }
  return text.endsWith('\r') ? text.slice(0, -1) : text
}

/** Raw-mode keystrokes → lines; nothing is echoed. Ctrl-C / Ctrl-D abort. */
function hiddenLines(input: Input) {
  const done: string[] = []
  const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = []
  let current = ''
  let failed: Error | undefined

  const deliver = () => {
    while (waiting.length > 0 && (done.length > 0 || failed)) {
      const w = waiting.shift()!
      if (done.length > 0) w.resolve(done.shift()!)
      else w.reject(failed!)
    }
  }
  const onData = (chunk: string | Buffer) => {
    for (const ch of chunk.toString()) {
      if (ch === '\r' || ch === '\n') {
        done.push(current)
        current = ''
      } else if (ch === '\u0003' || (ch === '\u0004' && current === '')) {
        failed = new PromptError('cancelled')
      } else if (ch === '\u007f' || ch === '\b') {
        current = Array.from(current).slice(0, -1).join('')
      } else if (ch >= ' ') {
        current += ch
      }
    }
    deliver()
  }
  const onEnd = () => {
    failed ??= new PromptError('no password entered')
    deliver()
  }

  input.setRawMode?.(true)
  input.on('data', onData)
  input.on('end', onEnd)
  input.resume()
  return {
    next: () =>
      new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject })
        deliver()
      }),
    close() {
      input.off('data', onData)
      input.off('end', onEnd)
      input.setRawMode?.(false)
      input.pause()
    },
  }
}
