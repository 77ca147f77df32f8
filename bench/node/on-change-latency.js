'use strict'
// onChange latency in Node: how long after the refresh() that brought a new version the
// callback runs on the JS thread (it crosses core's starfleet-notify thread and a Node-API
// threadsafe function), next to when that refresh() Promise settles. One line of text.
//
//   scripts/with-harness node bench/node/on-change-latency.js [PACKAGE_DIR] [ROUNDS]
//
// PACKAGE_DIR defaults to bindings-node (the addon `npm run build` or `build:debug` left there).

const path = require('node:path')
const pkg = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'bindings-node'))
const rounds = Number(process.argv[3] || 40)
const { SecretsManager } = require(pkg)
const h = require('../../bindings-node/test/helpers')

const quantile = (a, q) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))].toFixed(2)

async function main() {
  const keepAlive = setInterval(() => {}, 1000) // a subscription alone never keeps Node alive
  const name = h.unique('on-change-latency')
  await h.createSecret(name, { k: 0 })
  const m = new SecretsManager({ secretId: name, region: h.REGION, ttl: 'never' })
  await m.secrets()
  let wake
  m.onChange(() => wake(performance.now()))
  const settled = []
  const called = []
  for (let i = 1; i <= rounds; i++) {
    await h.putSecret(name, { k: i })
    const call = new Promise((resolve) => (wake = resolve))
    const t0 = performance.now()
    await m.refresh()
    const t1 = performance.now()
    const t2 = await call
    settled.push(t1 - t0)
    called.push(t2 - t1)
  }
  clearInterval(keepAlive)
  console.log(
    `${rounds} refreshes bringing a new version: refresh() settled after median ${quantile(settled, 0.5)} ms ` +
      `(p95 ${quantile(settled, 0.95)}); the onChange call came median ${quantile(called, 0.5)} ms ` +
      `after it settled (p95 ${quantile(called, 0.95)}; negative = before)`,
  )
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
