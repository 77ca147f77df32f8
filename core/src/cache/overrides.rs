//! The manager's side of testing overrides: values served in place of AWS, kept in
//! [`crate::overrides`]' stack inside the cache state.

use super::SecretsManager;
use crate::document::Payload;
use crate::error::Result;
use crate::overrides::OverrideToken;

impl SecretsManager {
    /// Serve `payload` in place of AWS until the override is undone (see [`crate::overrides`]):
    /// no location is resolved and no call is made, and the cached entry is left as it is.
    /// Overrides nest; the innermost is served. This is what the bindings' testing helpers
    /// use, so a worker's unit tests never touch the network or the library's internals.
    pub fn push_override(&self, payload: Payload) -> OverrideToken {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.push(id, payload, true)
    }

    /// As [`push_override`](Self::push_override), for a value whose lifetime is not a block
    /// (Python's Starfleet `_secrets` attribute): taken out by
    /// [`remove_override`](Self::remove_override), wherever it is; undoing a block pushed
    /// before it leaves it in force.
    pub fn assign_override(&self, payload: Payload) -> OverrideToken {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.push(id, payload, false)
    }

    /// Undo the override `token` names, which must be the innermost one pushed (else
    /// `INVALID_ARGUMENT`, and nothing changes): the one below is served again, or the cache.
    /// Assigned overrides above it stay in force.
    pub fn pop_override(&self, token: OverrideToken) -> Result<()> {
        self.lock_state().overrides.pop(token)
    }

    /// Undo the innermost override (`INVALID_ARGUMENT` when none is in force).
    pub fn pop_innermost_override(&self) -> Result<()> {
        self.lock_state().overrides.pop_innermost()
    }

    /// Take out the override `token` names wherever it is, the others staying in force: for
    /// an [assigned](Self::assign_override) one.
    pub fn remove_override(&self, token: OverrideToken) -> Result<()> {
        self.lock_state().overrides.remove(token)
    }

    /// Serve `payload` for the override `token` names from now on, at the same depth.
    pub fn replace_override(&self, token: OverrideToken, payload: Payload) -> Result<()> {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.replace(token, id, payload)
    }

    /// Whether `token` names the innermost override, the one served now.
    pub fn is_innermost_override(&self, token: OverrideToken) -> bool {
        self.lock_state().overrides.innermost_token() == Some(token)
    }

    /// How many overrides are in force (`testing_overrides` in [`super::Stats`]).
    pub fn override_depth(&self) -> usize {
        self.lock_state().overrides.depth()
    }
}
