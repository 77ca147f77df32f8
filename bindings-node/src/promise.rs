//! Promises settled from core's runtime, without ever blocking the JS thread.
//!
//! An operation is a future that yields an [`Out`]. [`dispatch`] polls it once on the JS thread
//! when that is known to be cheap (a warm cache answers without waiting, so the caller gets the
//! value with no thread hop). Anything that would wait (a fetch, or the single-flight lock held
//! by another caller's fetch) returns `Pending` at once: the future is then moved to core's tokio
//! runtime and a Promise is returned, settled through a Node-API threadsafe function when the
//! future completes. The threadsafe function keeps the event loop alive only while the Promise
//! is pending, so a process exits as soon as its work is done.
//!
//! Every Promise is settled: the [`Reply`] that owns it rejects with INTERNAL if it is dropped
//! unanswered (a panic while the future runs, a runtime going away).

use std::future::Future;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::ToNapiValue;
use napi::{sys, Env, JsDeferred, JsValue};
use starfleet_secrets::{runtime, Code, Error};

use crate::convert::Out;
use crate::error::{from_napi, to_js, JsResult};

type Resolver = Box<dyn FnOnce(Env) -> napi::Result<Out> + Send>;

/// The right to settle one Promise; settles it with INTERNAL if dropped unused.
struct Reply(Option<JsDeferred<Out, Resolver>>);

impl Reply {
    fn send(mut self, out: Out) {
        if let Some(deferred) = self.0.take() {
            deferred.resolve(Box::new(move |_env| Ok(out)));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(deferred) = self.0.take() {
            let e = Error::new(
                Code::Internal,
                "the operation ended without an answer (a panic in starfleet-secrets; see stderr)",
            );
            deferred.resolve(Box::new(move |_env| Ok(Out::Failed(e))));
        }
    }
}

/// What a call returns to JS: the value itself, or a Promise of it.
pub enum Answer {
    Ready(Out),
    Promise(sys::napi_value),
}

impl ToNapiValue for Answer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val {
            Answer::Ready(out) => unsafe { Out::to_napi_value(env, out) },
            Answer::Promise(promise) => Ok(promise),
        }
    }
}

/// Run `op`: answered at once if `poll_first` and it completes without waiting (a failure is
/// then thrown), otherwise on core's runtime behind a Promise.
///
/// `poll_first` must only be set when the first poll cannot do blocking work (file reads of a
/// first settings resolution): the bindings set it once the manager has answered before.
pub fn dispatch<F>(env: &Env, poll_first: bool, op: F) -> JsResult<Answer>
where
    F: Future<Output = Out> + Send + 'static,
{
    let mut op = Box::pin(op);
    if poll_first {
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(out) = op.as_mut().poll(&mut cx) {
            return match out {
                Out::Failed(e) => Err(to_js(e)),
                out => Ok(Answer::Ready(out)),
            };
        }
    }
    let rt = runtime::get().map_err(to_js)?;
    let (deferred, promise) = env.create_deferred::<Out, Resolver>().map_err(from_napi)?;
    let reply = Reply(Some(deferred));
    rt.spawn(async move {
        let out = op.await;
        reply.send(out);
    });
    Ok(Answer::Promise(promise.raw()))
}
