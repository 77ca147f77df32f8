// The cold read's main-thread phases, for bench/overhead/node-addons: wall time on the JS
// thread (busy throughout, so close to its CPU time) of `require` of the package (resolving it,
// compiling index.js, loading the addon, making SECRETS_MANAGER) and of the synchronous part of
// the first get() (the key path, starting the runtime, the Promise). The fetch itself runs on
// the library's threads, not in either figure: their CPU time is the third figure, read from
// /proc (schedstat) when the value has arrived. Prints `REQUIRE_MS GET_MS LIBRARY_THREADS_MS`.
const { performance } = require('node:perf_hooks')
const { readFileSync, readdirSync, writeSync } = require('node:fs')

const t0 = performance.now()
// Required by name from beside the build's node_modules, where node-addons copies this file
// (bench/node/cold/starfleet-secrets.js says why).
const { SECRETS_MANAGER } = require('starfleet-secrets')
const t1 = performance.now()
const read = SECRETS_MANAGER.get('STARFLEET', 'SlackToken')
const t2 = performance.now()
/** CPU ms of this process's threads named by the library's runtime (`starfleet-secrets`). */
function libraryThreadsMs() {
  let ns = 0
  for (const task of readdirSync('/proc/self/task')) {
    const dir = `/proc/self/task/${task}`
    if (readFileSync(`${dir}/comm`, 'utf8').startsWith('starfleet')) {
      ns += Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0])
    }
  }
  return ns / 1e6
}

read.then((token) => {
  if (typeof token !== 'string') throw new Error('no token')
  writeSync(1, `${(t1 - t0).toFixed(3)} ${(t2 - t1).toFixed(3)} ${libraryThreadsMs().toFixed(3)}\n`)
})
