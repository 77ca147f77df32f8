'use strict'
// The TypeScript declarations (hand-written index.d.ts over the generated binding.d.ts)
// compile under strict mode and describe the API as the tests use it.

const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { test } = require('node:test')

const { PACKAGE_DIR } = require('./helpers')

test('index.d.ts type-checks a typical worker and rejects misuse', () => {
  const tsc = path.join(PACKAGE_DIR, 'node_modules', 'typescript', 'bin', 'tsc')
  let output = ''
  try {
    output = execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
    })
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`)
  }
  assert.equal(output.trim(), '')
})
