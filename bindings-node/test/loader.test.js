'use strict'
// Which loader brings the addon in (index.js's loadAddon): on glibc Linux the addon itself,
// from the package folder or the platform package, without napi-rs's binding.js (its libc
// probe and size cost milliseconds of every start-up); every other case through binding.js,
// which reports what it tried.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { test, before, after } = require('node:test')

const { PACKAGE_DIR, runNode } = require('./helpers')

const TARGET = `linux-${process.arch}-gnu`
const ADDON = `starfleet-secrets.${TARGET}.node`
const glibc = process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch) && !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
const skip = glibc ? false : 'the direct load is for glibc Linux on x64 and arm64'

// Loads the package at argv[1] and prints which of its files, and which addon, Node loaded.
const PROBE = `
  const pkg = require(process.argv[1])
  const files = Object.keys(require.cache)
  console.log(JSON.stringify({
    codes: pkg.codes.SECRET_NOT_FOUND,
    bindingJs: files.some((f) => path.basename(f) === 'binding.js'),
    addon: files.find((f) => f.endsWith('.node')),
  }))`

async function probe(dir, env = {}) {
  const out = await runNode(['-e', `const path = require('node:path');${PROBE}`, dir], { env })
  return { ...out, seen: out.code === 0 ? JSON.parse(out.stdout) : null }
}

let scratch
before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-loader-'))
})
after(() => fs.rmSync(scratch, { recursive: true, force: true }))

/** An installed layout: the main package without an addon, beside the platform package holding `addon`. */
function installed(name, addon) {
  const modules = path.join(scratch, name, 'node_modules')
  return place(path.join(modules, 'starfleet-secrets'), path.join(modules, `starfleet-secrets-${TARGET}`), addon)
}

/** The main package (without an addon) at `main`, the platform package holding `addon` at `platform`. */
function place(main, platform, addon) {
  fs.mkdirSync(main, { recursive: true })
  fs.mkdirSync(platform, { recursive: true })
  for (const f of ['index.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(PACKAGE_DIR, f), path.join(main, f))
  fs.writeFileSync(path.join(platform, 'package.json'), JSON.stringify({ name: `starfleet-secrets-${TARGET}`, version: '0.1.0', main: ADDON }))
  addon(path.join(platform, ADDON))
  return main
}

test('the package folder: its own addon, without binding.js', { skip }, async () => {
  const { seen, stderr } = await probe(PACKAGE_DIR)
  assert.ok(seen, stderr)
  assert.equal(seen.codes, 'SECRET_NOT_FOUND')
  assert.equal(seen.bindingJs, false)
  assert.equal(seen.addon, path.join(PACKAGE_DIR, ADDON))
})

test('the package folder: a second evaluation of index.js reuses the cached addon module', { skip }, async () => {
  // loadAddon opens the local addon itself (process.dlopen) and keeps require()'s cache:
  // index.js evaluated again (its cache entry deleted, as test runners do) gets the same module.
  const script = `
    const index = require.resolve(process.argv[1])
    const first = require(process.argv[1])
    const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'))
    const exportsBefore = require.cache[addon].exports
    delete require.cache[index]
    const second = require(process.argv[1])
    console.log(JSON.stringify({
      fresh: first !== second,
      sameAddon: require.cache[addon].exports === exportsBefore,
      addons: Object.keys(require.cache).filter((f) => f.endsWith('.node')).length,
      works: second.codes.TIMEOUT,
    }))`
  const out = await runNode(['-e', script, PACKAGE_DIR])
  assert.equal(out.code, 0, out.stderr)
  assert.deepEqual(JSON.parse(out.stdout), { fresh: true, sameAddon: true, addons: 1, works: 'TIMEOUT' })
})

test('installed: the platform package, without binding.js', { skip }, async () => {
  const main = installed('gnu', (to) => fs.copyFileSync(path.join(PACKAGE_DIR, ADDON), to))
  const { seen, stderr } = await probe(main)
  assert.ok(seen, stderr)
  assert.equal(seen.bindingJs, false)
  assert.equal(seen.addon, fs.realpathSync(path.join(main, '..', `starfleet-secrets-${TARGET}`, ADDON)))
})

test('installed with a version conflict: the platform package nested in the package comes first', { skip }, async () => {
  // npm nests a dependency in the package's own node_modules when another version holds the
  // place beside it; require() looks there first, and so does loadAddon. The one beside it
  // here does not load, so taking it would fail the probe.
  const main = installed('nested', (to) => fs.writeFileSync(to, 'not a shared object'))
  const nested = path.join(main, 'node_modules', `starfleet-secrets-${TARGET}`)
  fs.mkdirSync(nested, { recursive: true })
  fs.copyFileSync(path.join(PACKAGE_DIR, ADDON), path.join(nested, ADDON))
  const { seen, stderr } = await probe(main)
  assert.ok(seen, stderr)
  assert.equal(seen.bindingJs, false)
  assert.equal(seen.addon, path.join(fs.realpathSync(nested), ADDON))
})

test('installed further up: a platform package only require() finds still loads without binding.js', { skip }, async () => {
  // The package in a nested node_modules (a workspace's), its platform package hoisted to the
  // root node_modules: neither known place has it, require() does.
  const root = path.join(scratch, 'hoisted', 'node_modules')
  const platform = path.join(root, `starfleet-secrets-${TARGET}`)
  const main = place(path.join(root, 'app', 'node_modules', 'starfleet-secrets'), platform, (to) =>
    fs.copyFileSync(path.join(PACKAGE_DIR, ADDON), to),
  )
  const { seen, stderr } = await probe(main)
  assert.ok(seen, stderr)
  assert.equal(seen.bindingJs, false)
  assert.equal(seen.addon, path.join(fs.realpathSync(platform), ADDON))
})

test("napi-rs's overrides still go through binding.js", { skip }, async () => {
  const { seen, stderr } = await probe(PACKAGE_DIR, { NAPI_RS_NATIVE_LIBRARY_PATH: path.join(PACKAGE_DIR, ADDON) })
  assert.ok(seen, stderr)
  assert.equal(seen.codes, 'SECRET_NOT_FOUND')
  assert.equal(seen.bindingJs, true)
})

test('an addon that does not load here is left to binding.js, which reports it', { skip }, async () => {
  const main = installed('broken', (to) => fs.writeFileSync(to, 'not a shared object'))
  const { code, stderr } = await probe(main)
  assert.notEqual(code, 0)
  assert.match(stderr, /Cannot find native binding/)
  assert.match(stderr, /binding\.js/)
})

test('requiring the package loads no built-in module (each costs every cold start)', async () => {
  // process.moduleLoadList names every built-in module and internal binding loaded so far.
  const code = `
    const before = new Set(process.moduleLoadList)
    const pkg = require(process.argv[1])
    void pkg.SECRETS_MANAGER
    console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))))`
  const out = await runNode(['-e', code, PACKAGE_DIR])
  assert.equal(out.code, 0, out.stderr)
  assert.deepEqual(JSON.parse(out.stdout), [])
})
