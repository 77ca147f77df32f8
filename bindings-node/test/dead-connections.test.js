'use strict'
// A pooled connection that a NAT gateway or a Lambda freeze silently killed: the harness
// black-holes every request on an already-used connection. The addon shares the core's
// runtime and client: a request left unanswered on a reused connection for a second is sent
// again on a new one (a hedge), so the first access after it returns the fresh value within
// 2 s with no failure counted. The worker runs in its own `node` (its own connection pool).

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const readline = require('node:readline')

const h = require('./helpers')

const WORKER = `
const { SecretsManager } = require('starfleet-secrets')
const readline = require('node:readline')
const m = new SecretsManager({ secretId: process.argv[1], region: '${h.REGION}', ttl: 1 })
const lines = readline.createInterface({ input: process.stdin })
m.secrets().then((doc) => {
  console.log(JSON.stringify(doc))
  lines.once('line', async () => {
    const started = performance.now()
    const value = await m.secrets()
    console.log(JSON.stringify({ value, elapsed: (performance.now() - started) / 1000, stats: m.stats() }))
    process.exit(0)
  })
})
`

test('a black-holed pooled connection costs about a second, not the deadline', async () => {
  const name = h.unique('dead')
  await h.createSecret(name, { v: 'old' })
  const child = spawn(process.execPath, ['-e', WORKER, name], { cwd: h.consumerFolder(), stdio: ['pipe', 'pipe', 'inherit'] })
  const out = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  try {
    assert.deepEqual(JSON.parse((await out.next()).value), { v: 'old' })
    await h.fault(name, 'hang', { hang_ms: 20000, connection: 'reused' }, 0)
    await h.putSecret(name, { v: 'new' })
    await h.sleep(1200)
    child.stdin.write('\n')
    const result = JSON.parse((await out.next()).value)
    assert.deepEqual(result.value, { v: 'new' })
    assert.ok(result.elapsed < 2, `second read took ${result.elapsed} s`)
    assert.equal(result.stats.failures, 0)
    assert.equal(result.stats.hedges, 1)
    // The first read, the attempt into the black hole, the hedge on a new connection.
    assert.equal(await h.getCount(name), 3)
  } finally {
    child.kill()
    await h.clearFaults(name)
  }
})
