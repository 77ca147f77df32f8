//! Typing a value by hand: echo off on the terminal while it is typed.
//!
//! `set --stdin` on a terminal must not show the value on the screen (where it stays in the
//! scrollback and any screen recording). [`EchoOff`] turns the terminal's echo off and puts it
//! back when dropped, and also when the process is interrupted meanwhile (SIGINT, SIGTERM,
//! SIGHUP, SIGQUIT restore the terminal, then take their default action), so a Ctrl-C does
//! not leave the operator's shell without echo.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The terminal settings to put back from a signal handler (null when echo is not off).
static SAVED: AtomicPtr<libc::termios> = AtomicPtr::new(ptr::null_mut());

const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Echo is off on the terminal that is standard input while this lives.
pub struct EchoOff {
    previous: [libc::sigaction; SIGNALS.len()],
}

const FD: libc::c_int = libc::STDIN_FILENO;

impl EchoOff {
    /// Turn echo off on standard input (a terminal). Line editing and Ctrl-D keep working.
    pub fn on_stdin() -> io::Result<EchoOff> {
        // SAFETY: tcgetattr/tcsetattr/sigaction are called with valid pointers to
        // initialised structures that outlive the calls.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(FD, &mut saved) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut quiet = saved;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
            let mut previous: [libc::sigaction; SIGNALS.len()] = std::mem::zeroed();
            SAVED.store(Box::into_raw(Box::new(saved)), Ordering::Release);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = restore_then_default as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            for (signal, old) in SIGNALS.iter().zip(previous.iter_mut()) {
                libc::sigaction(*signal, &action, old);
            }
            let echo_off = EchoOff { previous };
            if libc::tcsetattr(FD, libc::TCSAFLUSH, &quiet) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(echo_off)
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let saved = SAVED.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: `saved` came from Box::into_raw in `new` and is taken back once (swapped
        // out above); the previous actions were filled in by sigaction.
        unsafe {
            if !saved.is_null() {
                libc::tcsetattr(FD, libc::TCSANOW, saved);
            }
            for (signal, old) in SIGNALS.iter().zip(self.previous.iter()) {
                libc::sigaction(*signal, old, ptr::null_mut());
            }
            if !saved.is_null() {
                drop(Box::from_raw(saved));
            }
        }
    }
}

/// Signal handler: put the terminal back, then die of the signal as if it had no handler.
/// Only async-signal-safe calls.
extern "C" fn restore_then_default(signal: libc::c_int) {
    let saved = SAVED.load(Ordering::Acquire);
    // SAFETY: `saved` is null or the live settings stored by `EchoOff::new`.
    unsafe {
        if !saved.is_null() {
            libc::tcsetattr(FD, libc::TCSANOW, saved);
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
