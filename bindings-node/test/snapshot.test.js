'use strict'
// beforeSnapshot() / afterRestore(): what a custom runtime calls around a Lambda SnapStart
// snapshot, simulated by calling them, against the harness.

const assert = require('node:assert/strict')
const { test, before } = require('node:test')

const { SecretsManager } = require('..')
const h = require('./helpers')

before(() => {
  for (const v of ['STARFLEET_SECRET_ID', 'STARFLEET_SECRET_REGION', 'STARFLEET_CONFIG']) delete process.env[v]
})

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

test('a value fetched before the snapshot is fetched again, once, after the restore', async () => {
  const name = h.unique('snap')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { ttl: 'never' })
  const first = await m.secrets()
  assert.equal(first.v, 'one')
  await h.putSecret(name, { v: 'two' })
  m.beforeSnapshot()
  assert.equal(await m.secrets(), first, 'without zeroize the value and its object stay')
  m.afterRestore()
  const after = await Promise.all([m.get('v'), m.get('v'), m.secrets()])
  assert.deepEqual(after.slice(0, 2), ['two', 'two'])
  assert.equal(after[2].v, 'two')
  assert.equal(await h.getCount(name), 2)
  assert.equal(m.stats().restores, 1)
})

test('with zeroizeBeforeSnapshot the cached value and its object are dropped', async () => {
  const name = h.unique('snap-zero')
  await h.createSecret(name, { v: 'one' })
  const m = open(name, { zeroizeBeforeSnapshot: true })
  const kept = await m.secrets()
  assert.equal(m.cached('v'), 'one')
  m.beforeSnapshot()
  assert.equal(m.cached('v'), undefined, 'nothing cached after the wipe')
  const next = await m.secrets()
  assert.notEqual(next, kept)
  assert.equal(next.v, 'one')
  assert.equal(await h.getCount(name), 2, 'the next read fetched')
  assert.throws(() => open(name, { zeroizeBeforeSnapshot: 'yes' }), (e) => e.code === 'INVALID_ARGUMENT' && /zeroizeBeforeSnapshot/.test(e.message))
})
