'use strict'
// `npm run build` (release) and `npm run build:debug`: `napi build` for this platform,
// writing the addon, the generated loader (binding.js) and its types (binding.d.ts).
//
// The release addon uses the workspace's one release profile (root Cargo.toml: opt-level
// "z", fat LTO, stripped), the same as every other artifact, so the AWS SDK compiles once.
// Extra arguments go to `napi build` (e.g. `npm run build -- --output-dir DIR`).
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const args = process.argv.slice(2)
const cliPackage = require.resolve('@napi-rs/cli/package.json')
const { bin } = require(cliPackage)
const cli = path.join(path.dirname(cliPackage), typeof bin === 'string' ? bin : bin.napi)
const result = spawnSync(
  process.execPath,
  [cli, 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts', ...args],
  { cwd: path.join(__dirname, '..'), stdio: 'inherit' },
)
process.exitCode = result.status === null ? 1 : result.status
