'use strict'
// Node's side of the contract: the event loop is never blocked, concurrent first accesses
// make one call, worker threads work, every Promise settles and the process exits promptly.

const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { test, before } = require('node:test')

const { SecretsManager } = require('..')
const h = require('./helpers')

before(() => {
  for (const v of ['STARFLEET_SECRET_ID', 'STARFLEET_SECRET_REGION', 'STARFLEET_CONFIG']) delete process.env[v]
})

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

test('100 concurrent get() on a cold cache make exactly one GetSecretValue', async () => {
  const name = h.unique('flight')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-many' } })
  // Slow the call down so every access arrives while it is in flight: 2 s, a slow answer
  // that used to be abandoned and retried (three calls, then TIMEOUT). A deadline no other
  // test here uses gives the manager a connection pool of its own, so the call goes out on a
  // new connection, which waits for its answer (a reused one may be hedged after 1 s).
  await h.fault(name, 'delay', { delay_ms: 2000 })
  const m = open(name, { timeout: 9.7 })
  const values = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? m.get('STARFLEET.SlackToken') : m.get('STARFLEET', 'SlackToken'))))
  assert.equal(values.length, 100)
  assert.ok(values.every((v) => v === 'xoxb-many'))
  assert.equal(await h.getCount(name), 1, 'one call, counted at the proxy')
  const s = m.stats()
  assert.equal(s.fetches, 1)
  assert.equal(s.failures, 0)
  assert.equal(s.hedges, 0)
  assert.equal(s.misses + s.hits, 100)
})

test('concurrent secrets() calls on a cold cache share one call and one object', async () => {
  const name = h.unique('flight-doc')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'delay', { delay_ms: 200 })
  const m = open(name)
  const docs = await Promise.all(Array.from({ length: 20 }, () => m.secrets()))
  assert.equal(new Set(docs).size, 1)
  assert.equal(await h.getCount(name), 1)
})

test('the event loop keeps running while a fetch is delayed 1 s', async () => {
  const name = h.unique('loop')
  await h.createSecret(name, { v: 'slow' })
  await h.fault(name, 'delay', { delay_ms: 1000 })
  const m = open(name)
  let ticks = 0
  let maxGap = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks += 1
  }, 10)
  const started = performance.now()
  try {
    assert.equal(await m.get('v'), 'slow')
  } finally {
    clearInterval(timer)
  }
  const elapsed = performance.now() - started
  assert.ok(elapsed >= 950, `the fetch was delayed (${elapsed} ms)`)
  // A blocked loop would show no ticks and one gap of about a second.
  assert.ok(ticks >= 20, `${ticks} ticks of a 10 ms interval in ${elapsed.toFixed(0)} ms`)
  assert.ok(maxGap < 500, `longest gap between ticks ${maxGap.toFixed(0)} ms`)
})

test('a warm get() answers without a fetch and without blocking', async () => {
  const name = h.unique('warm')
  await h.createSecret(name, { v: 'warm' })
  const m = open(name)
  await m.get('v')
  const started = performance.now()
  for (let i = 0; i < 1000; i++) assert.equal(await m.get('v'), 'warm')
  assert.ok(performance.now() - started < 2000)
  assert.equal(await h.getCount(name), 1)
})

function runWorker(source, workerData) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData })
    let message
    worker.on('message', (m) => (message = m))
    worker.on('error', reject)
    worker.on('exit', (code) => resolve({ code, message }))
  })
}

const WORKER_SOURCE = `
  const { workerData, parentPort } = require('node:worker_threads')
  const { SecretsManager, SECRETS_MANAGER } = require(workerData.pkg)
  ;(async () => {
    const m = new SecretsManager({ secretId: workerData.name, region: workerData.region })
    SECRETS_MANAGER.configure({ secretId: workerData.name, region: workerData.region })
    const values = await Promise.all([m.get('STARFLEET.SlackToken'), SECRETS_MANAGER.get('STARFLEET', 'SlackToken')])
    const doc = await m.secrets()
    parentPort.postMessage({ values, same: doc === (await m.secrets()), cached: m.cached('STARFLEET.SlackToken') })
  })().catch((e) => parentPort.postMessage({ error: e.code + ' ' + e.message }))
`

test('worker threads load the addon and read the secret', async () => {
  const name = h.unique('workers')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-worker' } })
  const pkg = path.resolve(__dirname, '..')
  const results = await Promise.all(
    Array.from({ length: 4 }, () => runWorker(WORKER_SOURCE, { pkg, name, region: h.REGION })),
  )
  for (const { code, message } of results) {
    assert.equal(code, 0)
    assert.deepEqual(message, { values: ['xoxb-worker', 'xoxb-worker'], same: true, cached: 'xoxb-worker' })
  }
  // The main thread's copy of the addon is unaffected by the workers coming and going.
  assert.equal(await open(name).get('STARFLEET.SlackToken'), 'xoxb-worker')
})

test('terminating a worker while its fetch is in flight is safe', async () => {
  const name = h.unique('worker-terminate')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'delay', { delay_ms: 800 }, 0)
  try {
    const pkg = path.resolve(__dirname, '..')
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads')
       const { SecretsManager } = require(workerData.pkg)
       new SecretsManager({ secretId: workerData.name, region: workerData.region }).get('v').then(() => parentPort.postMessage('done'))
       parentPort.postMessage('started')`,
      { eval: true, workerData: { pkg, name, region: h.REGION } },
    )
    await new Promise((resolve) => worker.once('message', resolve))
    await h.sleep(100)
    await worker.terminate()
    await h.sleep(1000) // the fetch completes after its worker is gone
  } finally {
    await h.clearFaults(name)
  }
  assert.equal(await open(name).get('v'), 1, 'the process is alive and well')
})

test('the process exits promptly when the work is done', async () => {
  const name = h.unique('exit')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-exit' } })
  const code = `
    const { SECRETS_MANAGER } = require('starfleet-secrets')
    let done
    process.on('exit', () => process.stderr.write('lag ' + (performance.now() - done).toFixed(1) + '\\n'))
    SECRETS_MANAGER.get('STARFLEET.SlackToken').then((v) => { done = performance.now(); console.log(v.length) })`
  const r = await h.runNode(['-e', code], {
    env: { STARFLEET_SECRET_ID: name, STARFLEET_SECRET_REGION: h.REGION },
    timeoutMs: 10000,
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), String('xoxb-exit'.length))
  const lag = Number(/lag ([\d.]+)/.exec(r.stderr)[1])
  assert.ok(lag < 500, `the process lingered ${lag} ms after its last piece of work`)
})

test('a process that fails, or only uses the synchronous API, exits promptly too', async () => {
  const failing = `
    const { SecretsManager } = require('starfleet-secrets')
    new SecretsManager({ secretId: 'nope-${process.pid}', region: 'us-east-2' }).get('x').catch((e) => console.log(e.code))`
  const r = await h.runNode(['-e', failing], { timeoutMs: 10000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'SECRET_NOT_FOUND')
  assert.ok(r.ms < 5000, `${r.ms} ms`)
  const syncOnly = `
    const { SECRETS_MANAGER } = require('starfleet-secrets')
    console.log(SECRETS_MANAGER.cached('STARFLEET.SlackToken'), SECRETS_MANAGER.stats().fetches)`
  const s = await h.runNode(['-e', syncOnly], { timeoutMs: 10000 })
  assert.equal(s.code, 0, s.stderr)
  assert.equal(s.stdout.trim(), 'undefined 0')
})

test('a pending fetch keeps the process alive until it settles, then lets it go', async () => {
  const name = h.unique('pending')
  await h.createSecret(name, { v: 'late' })
  await h.fault(name, 'delay', { delay_ms: 700 })
  const code = `
    const { SecretsManager } = require('starfleet-secrets')
    new SecretsManager({ secretId: ${JSON.stringify(name)}, region: 'us-east-2' }).get('v').then((v) => console.log(v))`
  const r = await h.runNode(['-e', code], { timeoutMs: 10000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'late', 'the answer was delivered before exit')
  assert.ok(r.ms >= 700 && r.ms < 5000, `${r.ms} ms`)
})

test('no Promise is left pending, whatever the outcome', async () => {
  const hang = h.unique('pending-hang')
  const ok = h.unique('pending-ok')
  await h.createSecret(hang, { v: 1 })
  await h.createSecret(ok, { v: 1 })
  await h.fault(hang, 'hang', { hang_ms: 20000 }, 0)
  try {
    const promises = [
      open(hang, { timeout: 1 }).get('v'),
      open(hang, { timeout: 1 }).secrets(),
      open(ok).get('v'),
      open(ok).get('missing'),
      open(ok).secretBinary(),
      open(ok).refresh(),
      open(h.unique('absent')).get('v'),
      new SecretsManager({ ttl: 1 }).get('v'),
    ]
    const outcomes = await Promise.all(promises.map((p) => h.settlesWithin(p, 8000)))
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason.code)),
      ['TIMEOUT', 'TIMEOUT', 'ok', 'KEY_NOT_FOUND', 'SECRET_FORMAT', 'ok', 'SECRET_NOT_FOUND', 'CONFIG_MISSING'],
    )
  } finally {
    await h.clearFaults(hang)
  }
})
