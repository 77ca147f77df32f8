//! Testing overrides: values a manager serves in place of AWS, for the unit tests of code
//! that reads secrets (Python's `starfleet_secrets.testing`, Node's `pin()`).
//!
//! Overrides nest: the innermost one is served; undoing it serves the one below again, or,
//! when none is left, the real cache exactly as it was (an override never touches the cached
//! entry). Each [`push`](OverrideStack::push) returns an [`OverrideToken`]; undoing an override
//! while one pushed after it is still in force, or one that is not in force, is an
//! `INVALID_ARGUMENT` error (a test that leaves its blocks out of order learns it at once),
//! never a panic.
//!
//! An *assigned* override is not a block: Python's Starfleet `_secrets` attribute, which a
//! test assigns and clears at will. It is served while it is the innermost, is taken out
//! wherever it is ([`remove`](OverrideStack::remove)), and never makes a block's undo out of
//! order (it stays in force above the one undone).
//!
//! This is the one place for the rules and for the label every binding shows
//! ([`LABEL`]); the bindings only translate their API (a context manager, `pin`/`unpin`) to it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::document::{Payload, Secret};
use crate::error::{Code, Error, Result};

/// What an overriding value is called wherever one is shown: its name in error messages
/// (`"<secret id> (testing override)"`), `testing_overrides` in `stats()`, and the bindings'
/// repr/inspect.
pub const LABEL: &str = "testing override";

/// Proof of one [`OverrideStack::push`], handed back to undo it. Bindings pass it across as
/// [`raw`](Self::raw) (a number unique in the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OverrideToken(u64);

impl OverrideToken {
    pub fn raw(self) -> u64 {
        self.0
    }

    pub fn from_raw(raw: u64) -> OverrideToken {
        OverrideToken(raw)
    }
}

/// Unique across managers, so a token from one manager is never taken for another's.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// The overrides in force, innermost last.
#[derive(Default, Clone)]
pub(crate) struct OverrideStack {
    layers: Vec<Layer>,
}

#[derive(Clone)]
struct Layer {
    token: OverrideToken,
    secret: Arc<Secret>,
    /// Pushed by a block (nesting is checked), not assigned.
    scoped: bool,
}

impl OverrideStack {
    /// The value served now, if any override is in force.
    pub(crate) fn innermost(&self) -> Option<&Arc<Secret>> {
        self.layers.last().map(|l| &l.secret)
    }

    pub(crate) fn innermost_token(&self) -> Option<OverrideToken> {
        self.layers.last().map(|l| l.token)
    }

    pub(crate) fn depth(&self) -> usize {
        self.layers.len()
    }

    /// A new innermost override: a block's (`scoped`, undone by [`pop`](Self::pop)) or an
    /// assigned one (taken out by [`remove`](Self::remove)).
    pub(crate) fn push(&mut self, secret_id: Option<&str>, payload: Payload, scoped: bool) -> OverrideToken {
        let token = OverrideToken(NEXT_TOKEN.fetch_add(1, Relaxed));
        let secret = Arc::new(labelled(secret_id, payload));
        self.layers.push(Layer { token, secret, scoped });
        token
    }

    /// Undo the block override `token` names: no other block's may have been pushed after it
    /// and still be in force (assigned ones above it stay).
    pub(crate) fn pop(&mut self, token: OverrideToken) -> Result<()> {
        let at = self.position(token)?;
        if self.layers[at + 1..].iter().any(|l| l.scoped) {
            return Err(Error::new(
                Code::InvalidArgument,
                format!(
                    "{LABEL} {} of {} undone before the ones pushed after it: undo overrides innermost first",
                    at + 1,
                    self.layers.len()
                ),
            ));
        }
        self.layers.remove(at);
        Ok(())
    }

    /// Undo the innermost override, whichever it is.
    pub(crate) fn pop_innermost(&mut self) -> Result<()> {
        match self.layers.pop() {
            Some(_) => Ok(()),
            None => Err(not_in_force()),
        }
    }

    /// Take out an override wherever it is in the stack: for a value whose lifetime is not a
    /// block (Starfleet's `_secrets` attribute, which a test assigns and clears at will).
    pub(crate) fn remove(&mut self, token: OverrideToken) -> Result<()> {
        let at = self.position(token)?;
        self.layers.remove(at);
        Ok(())
    }

    /// Serve `payload` for the override `token` names from now on, at the same depth.
    pub(crate) fn replace(&mut self, token: OverrideToken, secret_id: Option<&str>, payload: Payload) -> Result<()> {
        let at = self.position(token)?;
        self.layers[at].secret = Arc::new(labelled(secret_id, payload));
        Ok(())
    }

    fn position(&self, token: OverrideToken) -> Result<usize> {
        self.layers
            .iter()
            .position(|l| l.token == token)
            .ok_or_else(not_in_force)
    }
}

fn not_in_force() -> Error {
    Error::new(
        Code::InvalidArgument,
        format!("no such {LABEL} in force (already undone, or never made on this manager)"),
    )
}

fn labelled(secret_id: Option<&str>, payload: Payload) -> Secret {
    let name = match secret_id {
        Some(id) => format!("{id} ({LABEL})"),
        None => format!("({LABEL})"),
    };
    Secret::new(name, None, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(b: &[u8]) -> Payload {
        Payload::Binary(zeroize::Zeroizing::new(b.to_vec()))
    }

    fn served(s: &OverrideStack) -> Option<Vec<u8>> {
        s.innermost().map(|x| x.binary().unwrap().to_vec())
    }

    #[test]
    fn nests_and_restores() {
        let mut s = OverrideStack::default();
        let outer = s.push(Some("S"), bytes(b"outer"), true);
        let inner = s.push(Some("S"), bytes(b"inner"), true);
        assert_eq!((served(&s).as_deref(), s.depth()), (Some(&b"inner"[..]), 2));
        assert_eq!(s.innermost().unwrap().name(), "S (testing override)");
        s.pop(inner).unwrap();
        assert_eq!(served(&s).as_deref(), Some(&b"outer"[..]));
        s.pop(outer).unwrap();
        assert_eq!(served(&s), None);
    }

    #[test]
    fn out_of_order_and_unbalanced_pops_are_errors_that_change_nothing() {
        let mut s = OverrideStack::default();
        let outer = s.push(None, bytes(b"outer"), true);
        let inner = s.push(None, bytes(b"inner"), true);
        let e = s.pop(outer).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(
            e.message().contains("1 of 2") && e.message().contains("innermost first"),
            "{e}"
        );
        assert_eq!(served(&s).as_deref(), Some(&b"inner"[..]));
        s.pop(inner).unwrap();
        assert_eq!(s.pop(inner).unwrap_err().code(), Code::InvalidArgument, "popped twice");
        s.pop(outer).unwrap();
        assert_eq!(s.pop_innermost().unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(s.innermost().map(|x| x.name().to_owned()), None);
    }

    #[test]
    fn assigned_overrides_come_and_go_without_breaking_the_blocks() {
        let mut s = OverrideStack::default();
        let assigned = s.push(None, bytes(b"a"), false);
        let block = s.push(None, bytes(b"b"), true);
        s.replace(assigned, None, bytes(b"a2")).unwrap();
        assert_eq!(served(&s).as_deref(), Some(&b"b"[..]));
        s.remove(assigned).unwrap();
        assert_eq!(s.depth(), 1);
        s.pop(block).unwrap();
        assert_eq!(s.remove(assigned).unwrap_err().code(), Code::InvalidArgument);
        // Assigned inside a block: the block ends, the assigned value stays served.
        let block = s.push(None, bytes(b"b"), true);
        let assigned = s.push(None, bytes(b"a"), false);
        s.pop(block).unwrap();
        assert_eq!(
            (served(&s).as_deref(), s.innermost_token()),
            (Some(&b"a"[..]), Some(assigned))
        );
    }
}
