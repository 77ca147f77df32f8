'use strict'
// The npm packages a release publishes, in napi-rs's multi-package layout: the main package
// `starfleet-secrets` (JavaScript, types, no addon) names one package per platform in
// `optionalDependencies`; npm installs the one whose `os`/`cpu`/`libc` match, and the
// generated loader (binding.js) requires it, e.g. `starfleet-secrets-linux-x64-gnu`.
//
//   node scripts/npm-packages.js STAGE PLATFORM...     (called by scripts/dist)
//
// STAGE/main receives a copy of this package's published files with the package.json to
// publish; STAGE/<platform> (e.g. linux-x64-gnu) the platform package.json (its addon,
// `starfleet-secrets.<platform>.node`, is copied there by scripts/dist).
const fs = require('node:fs')
const path = require('node:path')

const here = path.join(__dirname, '..')
const [stage, ...platforms] = process.argv.slice(2)
if (!stage || platforms.length === 0) {
  console.error('usage: node scripts/npm-packages.js STAGE PLATFORM...')
  process.exit(2)
}
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'))
const binaryName = pkg.napi.binaryName

// napi-rs platform names: <os>-<arch>[-<abi>] → package.json os / cpu / libc.
function constraints(platform) {
  const [os, cpu, abi] = platform.split('-')
  const out = { os: [os], cpu: [cpu] }
  if (abi === 'gnu') out.libc = ['glibc']
  if (abi === 'musl') out.libc = ['musl']
  return out
}

const main = path.join(stage, 'main')
fs.mkdirSync(main, { recursive: true })
// Not the addon (it lives in the platform packages) and not the install hook (it builds from
// a source checkout only); no development tools either.
const files = pkg.files.filter((f) => !f.includes('*') && f !== 'install.js')
for (const file of files) fs.copyFileSync(path.join(here, file), path.join(main, file))
const published = { ...pkg, files }
delete published.scripts
delete published.devDependencies
published.optionalDependencies = Object.fromEntries(platforms.map((p) => [`${pkg.name}-${p}`, pkg.version]))
fs.writeFileSync(path.join(main, 'package.json'), JSON.stringify(published, null, 2) + '\n')

for (const platform of platforms) {
  const dir = path.join(stage, platform)
  fs.mkdirSync(dir, { recursive: true })
  const addon = `${binaryName}.${platform}.node`
  const platformPkg = {
    name: `${pkg.name}-${platform}`,
    version: pkg.version,
    description: `The ${platform} native addon of ${pkg.name}`,
    license: pkg.license,
    main: addon,
    files: [addon],
    ...constraints(platform),
    engines: pkg.engines,
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(platformPkg, null, 2) + '\n')
}
