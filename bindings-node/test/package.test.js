'use strict'
// The package as users get it: an `npm pack` tarball, and the source folder, each installed
// into a fresh project, then loaded with require() and import.

const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { test, before, after } = require('node:test')

const { PACKAGE_DIR, runNode } = require('./helpers')

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let scratch

function npmRun(args, cwd) {
  // INIT_CWD is the directory npm was started from; the suite's own may be the package.
  const env = { ...process.env, INIT_CWD: cwd, npm_config_audit: 'false', npm_config_fund: 'false' }
  return execFileSync(npm, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function freshProject(name) {
  const dir = path.join(scratch, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true }))
  return dir
}

const PROBE_CJS = `
  const s = require('starfleet-secrets')
  const ok = typeof s.SecretsManager === 'function' && s.SECRETS_MANAGER instanceof s.SecretsManager &&
    new s.StarfleetSecretsError('TIMEOUT', 'x') instanceof Error
  const m = new s.SecretsManager(); m.pin({ A: { B: 'pinned' } })
  m.get('A.B').then((v) => console.log(ok, v, require('node:fs').realpathSync(require.resolve('starfleet-secrets'))))`
// Every export by name (Node reads the names from index.js's source: there is no ES-module
// entry), and the default import is the same object require() returns.
const PROBE_ESM = `
  import pkg, { SECRETS_MANAGER, SecretsManager, StarfleetSecretsError, codes, coreVersion } from 'starfleet-secrets'
  import { createRequire } from 'node:module'
  const same = pkg === createRequire(process.cwd() + '/')('starfleet-secrets') && pkg.codes === codes
  console.log(SECRETS_MANAGER instanceof SecretsManager, typeof StarfleetSecretsError, codes.TIMEOUT, coreVersion === pkg.coreVersion, same)`

/** Load the installed package both ways; `from` is the directory it must resolve into. */
async function probe(dir, from) {
  const cjs = await runNode(['-e', PROBE_CJS], { cwd: dir })
  assert.equal(cjs.code, 0, cjs.stderr)
  const [ok, value, resolved] = cjs.stdout.trim().split(' ')
  assert.deepEqual([ok, value], ['true', 'pinned'])
  assert.ok(resolved.startsWith(fs.realpathSync(from) + path.sep), `${resolved} is not under ${from}`)
  const esm = await runNode(['--input-type=module', '-e', PROBE_ESM], { cwd: dir })
  assert.equal(esm.code, 0, esm.stderr)
  assert.equal(esm.stdout.trim(), 'true function TIMEOUT true true')
}

before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-node-pack-'))
})

after(() => {
  fs.rmSync(scratch, { recursive: true, force: true })
})

test('an npm pack tarball installs into a fresh project and loads with require and import', async () => {
  const out = npmRun(['pack', '--json', '--pack-destination', scratch], PACKAGE_DIR)
  const [info] = JSON.parse(out.slice(out.indexOf('[')))
  const files = info.files.map((f) => f.path)
  for (const f of ['package.json', 'index.js', 'index.d.ts', 'binding.js', 'binding.d.ts', 'install.js', 'README.md']) {
    assert.ok(files.includes(f), `${f} is packed: ${files}`)
  }
  assert.ok(files.some((f) => f.endsWith('.node')), 'the addon is packed')
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/')), `${files}`)
  const project = freshProject('tarball')
  npmRun(['install', '--no-save', path.join(scratch, info.filename)], project)
  await probe(project, path.join(project, 'node_modules'))
})

test('npm install of the source folder works too', async () => {
  const project = freshProject('folder')
  npmRun(['install', '--no-save', PACKAGE_DIR], project)
  await probe(project, PACKAGE_DIR)
})

test('package.json has no exports field (require by name stays off Node 20 package-exports resolver)', () => {
  // With one, every require('starfleet-secrets') goes through Node's package-exports resolver
  // (its cost: README.md, bench/overhead/node-exports); the ES-module names come from index.js
  // instead (the import probe above).
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8'))
  assert.equal(pkg.exports, undefined)
  assert.equal(pkg.main, 'index.js')
})
