//! `manager.onChange(callback)`: core's `on_change` subscribers ([`starfleet_secrets::notify`])
//! as JS functions, called on the JS thread.
//!
//! Node's accesses run on core's runtime, so core hands the subscriber to its notification
//! thread (`starfleet-notify`); from there the call is queued to the JS thread through a
//! Node-API threadsafe function, non-blocking (the notification thread never waits for the
//! event loop) and weak (unref'd: a subscription never keeps the process alive). The JS facade
//! wraps the callback so that a throw is reported as a process warning and never reaches
//! Node's uncaught-exception path, and so that no call runs after the unsubscribe function
//! returned (a call already queued is skipped there).

use napi::bindgen_prelude::{External, FnArgs, Function};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use starfleet_secrets::Subscription;

use crate::error::{from_napi, shield};
use crate::Handle;

type ChangeHandle = External<Subscription>;

/// Queue `callback(oldVersionId | null, newVersionId)` on the JS thread after each fetch that
/// stores a new VersionId; `cancelChange` stops it.
#[napi(
    ts_return_type = "ChangeHandle",
    ts_args_type = "manager: ManagerHandle, callback: (oldVersionId: string | null, newVersionId: string) => void"
)]
pub fn on_change(
    manager: &Handle,
    callback: Function<FnArgs<(Option<String>, String)>, ()>,
) -> napi::Result<ChangeHandle, &'static str> {
    shield(|| {
        let tsfn = callback
            .build_threadsafe_function::<FnArgs<(Option<String>, String)>>()
            .weak::<true>()
            .callee_handled::<false>()
            .build()
            .map_err(from_napi)?;
        let subscription = manager.core.on_change(move |old, new| {
            // Fails only while the environment shuts down: nobody is left to tell.
            let _ = tsfn.call(
                (old.map(str::to_owned), new.to_owned()).into(),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        });
        Ok(External::new(subscription))
    })
}

/// Stop the calls of `onChange`'s subscription: none is queued after this returns.
#[napi(ts_args_type = "subscription: ChangeHandle")]
pub fn cancel_change(subscription: &ChangeHandle) {
    subscription.cancel();
}
