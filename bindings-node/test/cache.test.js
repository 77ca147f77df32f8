'use strict'
// The cache seen from Node: TTL, `never`, `0`, stale-if-error and its bound. The rules are
// core's; these tests check that the binding passes them through unchanged.

const assert = require('node:assert/strict')
const { test } = require('node:test')

const { SecretsManager } = require('..')
const h = require('./helpers')

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

test('an expired entry is refreshed on access and picks up a new version', async () => {
  const name = h.unique('ttl')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { ttl: 0.6 })
  const first = await m.secrets()
  await h.putSecret(name, { v: 'two' })
  assert.equal(await m.secrets(), first, 'within the TTL: cached')
  assert.equal(m.cached('v'), 'one')
  assert.equal(await h.getCount(name), 1)
  await h.sleep(700)
  assert.equal(m.cached('v'), undefined, 'an expired entry is not served by cached()')
  assert.equal(await m.get('v'), 'two')
  const second = await m.secrets()
  assert.deepEqual(second, { v: 'two' })
  assert.notEqual(second, first)
  await h.sleep(700)
  assert.equal(await m.secrets(), second, 'same VersionId after expiry: the same object')
  const s = m.stats()
  assert.equal(s.fetches, 3)
  assert.equal(s.failures, 0)
})

test('the TTL can come from STARFLEET_SECRETS_TTL', async () => {
  const name = h.unique('ttl-env')
  await h.createSecret(name, { v: 1 })
  const code = `
    const { SecretsManager } = require('starfleet-secrets')
    const m = new SecretsManager({ secretId: ${JSON.stringify(name)}, region: 'us-east-2' })
    ;(async () => {
      for (let i = 0; i < 3; i++) await m.get('v')
      console.log(m.stats().fetches)
    })()`
  const r = await h.runNode(['-e', code], { env: { STARFLEET_SECRETS_TTL: '0' } })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), '3')
})

test('ttl "never" keeps the first value for the life of the process; refresh() is the way to update', async () => {
  const name = h.unique('never')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { ttl: 'never' })
  assert.equal(await m.get('v'), 'one')
  await h.putSecret(name, { v: 'two' })
  await h.sleep(300)
  for (let i = 0; i < 5; i++) assert.equal(await m.get('v'), 'one')
  assert.equal(m.cached('v'), 'one')
  assert.equal(await h.getCount(name), 1)
  assert.deepEqual(await m.refresh(), { v: 'two' })
  assert.equal(await m.get('v'), 'two')
  assert.equal(await h.getCount(name), 2)
})

test('ttl 0 fetches on every access and caches nothing', async () => {
  const name = h.unique('zero')
  await h.createSecret(name, { v: 'x' })
  for (const ttl of [0, '0']) {
    const m = open(name, { ttl })
    const before = await h.getCount(name)
    for (let i = 0; i < 4; i++) assert.equal(await m.get('v'), 'x')
    assert.equal(await h.getCount(name), before + 4)
    assert.equal(m.cached('v'), undefined)
    assert.equal(m.cached(), undefined)
  }
})

test('ttl 0 is still single-flight: concurrent accesses share one call', async () => {
  const name = h.unique('zero-flight')
  await h.createSecret(name, { v: 'x' })
  await h.fault(name, 'delay', { delay_ms: 300 })
  const m = open(name, { ttl: 0 })
  const values = await Promise.all(Array.from({ length: 20 }, () => m.get('v')))
  assert.deepEqual(new Set(values), new Set(['x']))
  assert.equal(await h.getCount(name), 1)
})

test('stale-if-error: a failed refresh serves the last good value and is counted', async () => {
  const name = h.unique('stale')
  await h.createSecret(name, { token: 'good' })
  const m = open(name, { ttl: 0.2 })
  const good = await m.secrets()
  await h.fault(name, 'error', { status: 500 }, 0)
  try {
    await h.sleep(300)
    assert.equal(await m.secrets(), good, 'the stale value, the same object')
    const calls = await h.getCount(name)
    assert.equal(await m.get('token'), 'good', 'within the backoff: served again...')
    assert.equal(await h.getCount(name), calls, '...without another call')
    const s = m.stats()
    assert.equal(s.failures, 1)
    assert.equal(s.stale_served, 2)
    assert.equal(s.last_error, 'SERVICE')
    // An explicit refresh reports the failure and keeps the value.
    const settled = await h.settlesWithin(m.refresh(), 10000)
    assert.equal(settled.status, 'rejected')
    assert.equal(settled.reason.code, 'SERVICE')
    assert.equal(await m.secrets(), good)
  } finally {
    await h.clearFaults(name)
  }
  assert.equal(await m.refresh(), good, 'same VersionId once the service is back')
  assert.equal(m.stats().last_error, null)
})

test('stale-if-error is bounded by maxStale, then the error shows', async () => {
  const name = h.unique('stale-bound')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { ttl: 0.2, maxStale: 0.8 })
  await m.get('v')
  await h.deleteSecret(name)
  await h.sleep(300)
  assert.equal(await m.get('v'), 'one', 'stale, within the bound')
  await h.sleep(1000)
  const settled = await h.settlesWithin(m.get('v'), 10000)
  assert.equal(settled.status, 'rejected')
  assert.equal(settled.reason.code, 'SECRET_NOT_FOUND')
})

test('maxStale 0 disables stale-if-error', async () => {
  const name = h.unique('no-stale')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { ttl: 0.2, maxStale: 0 })
  await m.get('v')
  await h.fault(name, 'error', { status: 500 }, 0)
  try {
    await h.sleep(300)
    const settled = await h.settlesWithin(m.get('v'), 10000)
    assert.equal(settled.status, 'rejected')
    assert.equal(settled.reason.code, 'SERVICE')
  } finally {
    await h.clearFaults(name)
  }
})
