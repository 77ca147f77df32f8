'use strict'
// Warm reads in Node, ns per read, beside a plain object read: one round, printed as JSON
// {read: ns} (bench/overhead/warm runs it per build and round, interleaved).
//
//   node warm.js PKG_DIR

const N = 500000
const READS = {
  'a plain object read: `doc.STARFLEET.SlackToken`': (m, doc) => doc.STARFLEET.SlackToken,
  "`SECRETS_MANAGER.cached('STARFLEET', 'SlackToken')`": (m) => m.cached('STARFLEET', 'SlackToken'),
  "`SECRETS_MANAGER.cached('STARFLEET.SlackToken')`": (m) => m.cached('STARFLEET.SlackToken'),
}

async function worker(pkg) {
  const { SECRETS_MANAGER: m } = require(pkg)
  const token = await m.get('STARFLEET', 'SlackToken')
  const doc = JSON.parse(JSON.stringify(await m.secrets()))
  const out = {}
  let sink = 0
  for (const [name, read] of Object.entries(READS)) {
    for (let i = 0; i < N; i++) if (read(m, doc) === token) sink++ // JIT warm-up
    const best = []
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < N; i++) if (read(m, doc) === token) sink++
      best.push(Number(process.hrtime.bigint() - t0) / N)
    }
    out[name] = Math.min(...best)
  }
  if (sink !== Object.keys(READS).length * 6 * N) throw new Error('a read returned the wrong value')
  process.stdout.write(JSON.stringify(out))
}

worker(process.argv[2]).catch((e) => {
  console.error(e)
  process.exit(1)
})
