'use strict'
// `npm run build` (release) and `npm run build:debug`: `napi build` for this platform,
// writing the addon, the generated loader (binding.js) and its types (binding.d.ts).
//
// The release addon is size-minded: on top of the workspace's release profile (stripped,
// codegen-units = 1) it is built with opt-level "z" and fat LTO, through Cargo's
// CARGO_PROFILE_RELEASE_* variables, so other crates' release builds are unaffected. That
// roughly halves the file and the code paged in by a cold start (see bench/node/RESULTS.md).
// Set those variables yourself to override. Extra arguments go to `napi build`
// (e.g. `npm run build -- --output-dir DIR`).
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const args = process.argv.slice(2)
const release = args.includes('--release')
const env = { ...process.env }
if (release) {
  env.CARGO_PROFILE_RELEASE_OPT_LEVEL ??= 'z'
  env.CARGO_PROFILE_RELEASE_LTO ??= 'fat'
}
const cliPackage = require.resolve('@napi-rs/cli/package.json')
const { bin } = require(cliPackage)
const cli = path.join(path.dirname(cliPackage), typeof bin === 'string' ? bin : bin.napi)
const result = spawnSync(
  process.execPath,
  [cli, 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts', ...args],
  { cwd: path.join(__dirname, '..'), env, stdio: 'inherit' },
)
process.exitCode = result.status === null ? 1 : result.status
