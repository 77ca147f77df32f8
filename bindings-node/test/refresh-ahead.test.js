'use strict'
// Refresh-ahead and the fleet expiry jitter against the harness (moto + fault proxy). The
// proxy's `delay` fault makes each fetch take 0.9 s (just under the 1 s hedge delay, after
// which a call on a reused connection would also be sent on a new one and the call counts
// would double): a read slower than WAITED_MS waited for a fetch.

const assert = require('node:assert/strict')
const { test, before } = require('node:test')

const { SecretsManager } = require('..')
const h = require('./helpers')

const DELAY_MS = 900
const WAITED_MS = 300

before(() => {
  for (const v of ['STARFLEET_SECRET_ID', 'STARFLEET_SECRET_REGION', 'STARFLEET_CONFIG']) delete process.env[v]
})

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

test('after the first load no read waits for a fetch', async () => {
  const name = h.unique('ahead')
  await h.createSecret(name, { token: 'v1' })
  await h.fault(name, 'delay', { delay_ms: DELAY_MS }, 0)
  // TTL 3 s, refresh at 1.5 s of age: a 0.9 s fetch ends well before the value expires.
  const m = open(name, { ttl: 3, refreshAhead: 0.5, expiryJitter: 0 })
  const first = performance.now()
  assert.equal(await m.get('token'), 'v1')
  assert.ok(performance.now() - first >= DELAY_MS, 'the first load waits for its fetch')
  const start = performance.now()
  let slowest = 0
  let rotated = false
  while (performance.now() - start < 10000) {
    if (!rotated && performance.now() - start > 4000) {
      await h.putSecret(name, { token: 'v2' })
      rotated = true
    }
    const t = performance.now()
    await Promise.all([m.get('token'), m.get('token'), m.secrets()])
    m.cached('token')
    slowest = Math.max(slowest, performance.now() - t)
    await h.sleep(50)
  }
  assert.ok(slowest < WAITED_MS, `a read waited ${slowest.toFixed(0)} ms for a fetch`)
  assert.equal(await m.get('token'), 'v2', 'the background refreshes bring the new version')
  const s = m.stats()
  assert.ok(s.refreshes_ahead >= 3, JSON.stringify(s))
  assert.equal(s.fetches, s.refreshes_ahead + 1, JSON.stringify(s))
  assert.equal(s.fetches, await h.getCount(name))
  assert.deepEqual([s.failures, s.stale_served], [0, 0])
  await h.clearFaults(name)
})

test('a failed background refresh keeps the value, then follows maxStale', async () => {
  const name = h.unique('ahead-fail')
  await h.createSecret(name, { token: 'kept' })
  const m = open(name, { ttl: 2, refreshAhead: 0.25, expiryJitter: 0, maxStale: 2, timeout: 2 })
  const loaded = performance.now()
  await m.get('token')
  await h.fault(name, 'error', { status: 400, code: 'AccessDeniedException' }, 0)
  await h.sleep(600)
  const t = performance.now()
  assert.equal(await m.get('token'), 'kept') // starts the background refresh
  assert.ok(performance.now() - t < WAITED_MS)
  for (let i = 0; i < 250 && m.stats().failures === 0; i++) await h.sleep(20)
  const s = m.stats()
  assert.deepEqual([s.refreshes_ahead, s.failures, s.last_error], [1, 1, 'ACCESS_DENIED'])
  assert.equal(await m.get('token'), 'kept')
  await h.sleep(Math.max(0, 2200 - (performance.now() - loaded)))
  assert.equal(await m.get('token'), 'kept') // past the TTL: served stale
  assert.ok(m.stats().stale_served >= 1)
  await h.sleep(Math.max(0, 4300 - (performance.now() - loaded)))
  await assert.rejects(m.get('token'), (e) => e.code === 'ACCESS_DENIED') // past TTL + maxStale
  await h.clearFaults(name)
})

test('the process exits promptly with a background refresh in flight', async () => {
  const name = h.unique('ahead-exit')
  await h.createSecret(name, { token: 'v1' })
  await h.fault(name, 'delay', { delay_ms: 1 }, 1) // the first load passes...
  await h.fault(name, 'hang', { hang_ms: 20000 }, 0) // ...every later call hangs
  const code = `
    const { SecretsManager } = require('starfleet-secrets')
    const m = new SecretsManager({ secretId: ${JSON.stringify(name)}, region: ${JSON.stringify(h.REGION)}, ttl: 1, refreshAhead: 0.1, timeout: 15 })
    m.get('token').then(() => setTimeout(async () => {
      await m.get('token') // starts a background refresh, which hangs
      setTimeout(() => console.log('refreshes_ahead', m.stats().refreshes_ahead), 300)
    }, 300))`
  const r = await h.runNode(['-e', code], { timeoutMs: 20000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'refreshes_ahead 1')
  assert.ok(r.ms < 5000, `exit took ${r.ms} ms with a background refresh in flight`)
  await h.clearFaults(name)
})

test('processes started together expire at different times', async () => {
  const name = h.unique('jitter')
  await h.createSecret(name, { token: 'v1' })
  const [ttl, jitter] = [4, 0.5]
  const code = `
    const { SecretsManager } = require('starfleet-secrets')
    const m = new SecretsManager({ secretId: ${JSON.stringify(name)}, region: ${JSON.stringify(h.REGION)}, ttl: ${ttl}, expiryJitter: ${jitter} })
    m.get('token').then(async () => {
      const loaded = performance.now()
      while (m.stats().fetches === 1) {
        await m.get('token')
        await new Promise((r) => setTimeout(r, 10))
      }
      console.log((performance.now() - loaded) / 1000)
    })`
  const runs = await Promise.all([0, 1, 2].map(() => h.runNode(['-e', code], { timeoutMs: 20000 })))
  const expiries = runs.map((r) => {
    assert.equal(r.code, 0, r.stderr)
    return Number(r.stdout.trim())
  })
  for (const e of expiries) assert.ok(e >= ttl * (1 - jitter) - 0.05 && e <= ttl + 0.3, `${expiries}`)
  // Uniform shares over 2 s: three within 60 ms of each other means they were not drawn apart.
  assert.ok(Math.max(...expiries) - Math.min(...expiries) > 0.06, `${expiries}`)
})

test('options and environment: refreshAhead / expiryJitter, CONFIG_INVALID from the environment', async () => {
  const name = h.unique('ahead-opts')
  await h.createSecret(name, { token: 'v1' })
  for (const bad of [{ refreshAhead: 1 }, { expiryJitter: -0.1 }, { refreshAhead: '0.5' }]) {
    assert.throws(() => open(name, bad), (e) => e.code === 'INVALID_ARGUMENT', JSON.stringify(bad))
  }
  for (const [variable, value] of [['STARFLEET_SECRETS_REFRESH_AHEAD', '1'], ['STARFLEET_SECRETS_EXPIRY_JITTER', 'lots']]) {
    process.env[variable] = value
    try {
      await assert.rejects(open(name).get('token'), (e) => e.code === 'CONFIG_INVALID' && e.message.includes(variable))
    } finally {
      delete process.env[variable]
    }
  }
})

test('a host configuration is followed while refresh-ahead keeps the value fresh', async () => {
  const a = h.unique('ahead-host-a')
  const b = h.unique('ahead-host-b')
  await h.createSecret(a, { v: 'a' })
  await h.createSecret(b, { v: 'b' })
  const live = { STARFLEET: { SecretsManager: { SecretId: a, SecretRegion: h.REGION } } }
  const m = new SecretsManager({ config: live, ttl: 1, refreshAhead: 0.3, expiryJitter: 0 })
  assert.equal(await m.get('v'), 'a')
  live.STARFLEET.SecretsManager.SecretId = b
  // Reads keep coming within the TTL: the host's configuration must still be consulted
  // before each refresh, as it is at each load without refresh-ahead.
  let last
  const start = performance.now()
  while (performance.now() - start < 4000) {
    last = await m.get('v')
    await h.sleep(50)
  }
  assert.equal(last, 'b', "the host's configuration was not followed")
})
