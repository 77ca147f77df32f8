'use strict'
// `npm install` hook. A package with a prebuilt addon for this platform (an `npm pack`
// tarball made after `npm run build`) needs nothing. Installed from a source checkout
// (`npm i ./bindings-node`) without an addon, it builds one with cargo (release profile).
// In the package's own directory (`npm ci` during development) it does nothing: developers
// build with `npm run build` / `npm run build:debug`.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const here = __dirname

function loads() {
  try {
    require('./binding.js')
    return true
  } catch {
    return false
  }
}

/** The file name napi-rs's loader (binding.js) looks for on this platform. */
function addonName() {
  const { platform, arch } = process
  let abi = ''
  if (platform === 'linux') {
    const report = process.report && process.report.getReport()
    abi = report && report.header && report.header.glibcVersionRuntime ? '-gnu' : '-musl'
  } else if (platform === 'win32') {
    abi = '-msvc'
  }
  return `starfleet-secrets.${platform}-${arch}${abi}.node`
}

function main() {
  const ownInstall = process.env.INIT_CWD && path.resolve(process.env.INIT_CWD) === here
  if (ownInstall || loads()) return 0
  const workspace = path.resolve(here, '..', 'Cargo.toml')
  if (!fs.existsSync(workspace) || !fs.existsSync(path.join(here, 'Cargo.toml'))) {
    console.error(
      `starfleet-secrets: no prebuilt addon (${addonName()}) for ${process.platform}-${process.arch} ` +
        'in this package, and no Rust sources to build one from',
    )
    return 1
  }
  console.error('starfleet-secrets: building the native addon with cargo (release)...')
  const cargo = process.env.CARGO || 'cargo'
  const metadata = JSON.parse(
    execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', workspace], {
      encoding: 'utf8',
    }),
  )
  // The same size-minded settings as `npm run build` (scripts/build.js).
  const env = { CARGO_PROFILE_RELEASE_OPT_LEVEL: 'z', CARGO_PROFILE_RELEASE_LTO: 'fat', ...process.env }
  execFileSync(cargo, ['build', '--release', '-p', 'starfleet-secrets-node', '--manifest-path', workspace], {
    stdio: 'inherit',
    env,
  })
  const lib = {
    darwin: 'libstarfleet_secrets_node.dylib',
    win32: 'starfleet_secrets_node.dll',
  }[process.platform] || 'libstarfleet_secrets_node.so'
  fs.copyFileSync(path.join(metadata.target_directory, 'release', lib), path.join(here, addonName()))
  if (!loads()) {
    console.error('starfleet-secrets: the addon was built but does not load')
    return 1
  }
  return 0
}

process.exitCode = main()
