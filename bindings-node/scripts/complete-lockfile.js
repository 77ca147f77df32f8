'use strict'
// Give package-lock.json an entry for every platform-specific optional dependency.
//
// napi-rs tools (@napi-rs/cli's lzma, tar and wasm-tools helpers) ship one optional package
// per platform. npm writes an entry for each into the lock file when it can read their
// manifests; a registry mirror that only carries the packages of this platform answers 404
// for the others, npm then leaves them out, and `npm ci` rejects the lock file ("Missing:
// ... from lock file"). This adds the missing entries with the exact version the parent pins
// and the os/cpu/libc that the package name spells, which is all `npm ci` needs to skip them
// on other platforms. Run after `npm install` changes the lock file:
//
//     node scripts/complete-lockfile.js
const fs = require('node:fs')
const path = require('node:path')

const lockPath = path.join(__dirname, '..', 'package-lock.json')
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'))

const PLATFORM = /-(android|darwin|freebsd|linux|win32|wasm32)-?([a-z0-9]*)-?([a-z]*)$/

function platformOf(name) {
  const m = PLATFORM.exec(name)
  if (!m) return null
  const [, os, arch, abi] = m
  if (os === 'wasm32') return { cpu: ['wasm32'] }
  const entry = { os: [os], cpu: [arch] }
  if (os === 'linux') entry.libc = [abi === 'musl' ? 'musl' : 'glibc']
  return entry
}

let added = 0
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies || {})) {
    const platform = platformOf(dep)
    if (!platform) continue
    const base = key === '' ? 'node_modules' : `${key}/node_modules`
    const candidates = [`${base}/${dep}`, `node_modules/${dep}`]
    if (candidates.some((c) => lock.packages[c])) continue
    lock.packages[`node_modules/${dep}`] = { version, dev: pkg.dev || undefined, optional: true, ...platform }
    added += 1
  }
}

const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
)
lock.packages = sorted
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`complete-lockfile: added ${added} platform entries`)
