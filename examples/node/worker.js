#!/usr/bin/env node
// A Starfleet-style worker in Node: locate the Starfleet secret the way every front door does
// (arguments, then STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, then the Starfleet
// configuration named by STARFLEET_CONFIG), read STARFLEET.SlackToken (or the key path given
// as the first argument) and confirm it without printing it.
//
// `handler` is what a Lambda would export; run directly, the worker invokes it once.
// STARFLEET_LOG=debug prints the library's log records to stderr (they never hold values).
// Exit status: 0 on success, 1 with `CODE: message` on stderr on failure.
'use strict'

const { SECRETS_MANAGER, StarfleetSecretsError } = require('starfleet-secrets')

async function handler(event = {}) {
  const path = event.path || 'STARFLEET.SlackToken'
  // The first invocation of a container fetches; later ones are answered from the cache.
  const value = await SECRETS_MANAGER.get(path)
  if (typeof value !== 'string') {
    throw new StarfleetSecretsError('SECRET_FORMAT', `value at ${path} is not a string`)
  }
  const stats = SECRETS_MANAGER.stats()
  return { path, characters: [...value].length, version: stats.version_id, fetches: stats.fetches }
}

module.exports = { handler }

if (require.main === module) {
  handler({ path: process.argv[2] }).then(
    (r) => {
      const fetches = `${r.fetches} fetch${r.fetches === 1 ? '' : 'es'}`
      console.log(
        `node worker: read ${r.path} (${r.characters} characters, value redacted; version ${r.version || '?'}, ${fetches})`,
      )
    },
    (e) => {
      console.error(`node worker: ${e instanceof StarfleetSecretsError ? `${e.code}: ${e.message}` : e}`)
      process.exitCode = 1
    },
  )
}
