import { describe, expect, it } from 'vitest'
import { createFailureFloor } from '../../src/services/crypto/failure-floor.js'

function fakeTime() {
  let t = 0
  const waits: number[] = []
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
    waits,
    wait: async (ms: number) => {
      waits.push(ms)
    },
  }
}

describe('failure floor', () => {
  it('pads a fast failure up to the slowest recent verification', async () => {
    const time = fakeTime()
    const floor = createFailureFloor({ now: time.now, wait: time.wait })
    let start = time.now()
    time.advance(200) // a bcrypt-12 check
    floor.record(start)
    start = time.now()
    time.advance(40) // a dummy Argon2id check
    await floor.pad(floor.record(start))
    expect(time.waits).toEqual([160])
  })

  it('never pads past the cap, and forgets samples older than the window', async () => {
    const time = fakeTime()
    const floor = createFailureFloor({
      now: time.now,
      wait: time.wait,
      capMs: 500,
      windowMs: 60_000,
      bucketMs: 10_000,
    })
    let start = time.now()
    time.advance(5000)
    floor.record(start)
    await floor.pad(10)
    expect(time.waits).toEqual([490])
    time.advance(60_000 + 10_000)
    start = time.now()
    time.advance(30)
    floor.record(start)
    await floor.pad(30)
    expect(time.waits).toEqual([490]) // the 5 s sample has left the window
  })

  it('cannot be flushed by a burst of cheap failures before a probe (issue 14)', async () => {
    const time = fakeTime()
    const floor = createFailureFloor({ now: time.now, wait: time.wait })
    let start = time.now()
    time.advance(250) // one bcrypt-12 login, some time ago
    floor.record(start)
    for (let i = 0; i < 1000; i++) {
      start = time.now()
      time.advance(20) // unknown emails, sent to push the slow sample out
      floor.record(start)
    }
    await floor.pad(20)
    expect(time.waits).toEqual([230])
  })
})
