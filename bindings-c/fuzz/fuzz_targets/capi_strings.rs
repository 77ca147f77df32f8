//! The C ABI's string, number and pointer arguments: C strings built from the input (empty,
//! very long, invalid UTF-8, cut short by an embedded NUL) and NULL pointers, passed to every
//! exported function that takes them: the options setters (on a live options object and on a
//! scratch one or NULL), the seconds setters (NaN, infinities, negatives, huge values), the
//! key-path arguments of the manager getters (dotted strings and arrays of strings, NULL
//! arrays with a count, NULL elements), `starfleet_secrets_result_name()` with any number and
//! `starfleet_secrets_last_error_message()` with any buffer size. Configuration files are
//! written from the input into a private temporary directory and named by the config path.
//!
//! No network, ever: a getter, `refresh` or `get_document_json` is only handed real
//! out-params when `starfleet_secrets_manager_location()` has just failed for that manager
//! (its settings do not resolve, so every fetch stops before any I/O, with that same error);
//! otherwise `out` is NULL, which is refused before the fetch. The environment's `STARFLEET_*`
//! and `AWS_*` variables are cleared once at start, and every manager's stats must still show
//! zero fetches and misses when it is freed.
//!
//! Properties: no call returns INTERNAL (a caught panic); every result is a known number and
//! is the one `starfleet_secrets_last_error_code()` reports; the last error message is UTF-8
//! with no NUL inside, `"<RESULT_NAME>: ..."` after a failure and empty after a success,
//! and is cut at a character boundary into small buffers; NULL or non-UTF-8 strings and bad
//! seconds are INVALID_ARGUMENT; a getter's path is judged exactly as core's `Path` judges
//! it; everything handed out is freed with the ABI's free functions.
//!
//! Input layout: a sequence of at most 64 operations, each an opcode byte (taken modulo 15)
//! followed by its arguments. Missing bytes at the end of the input read as 0 / empty.
//!
//! * `S`, a C string: tag `0xFF` = NULL; tag `0xFE`, then `r`, then a short `S` = that string
//!   repeated `(r + 1) * 64` times (at most 64 KiB); any other tag `n` = the next `n` bytes.
//!   A NUL is appended; a NUL inside ends the string as C sees it.
//! * `F`, a float: tag `t < 16` = a special value (`SPECIALS` below: NaN, ±inf, -0, 0, -1, 1e12,
//!   just under 1e12, f64::MAX, the smallest normal and subnormal, 1e-9, 0.05, 300, -NaN, 1e-10);
//!   `0xFF` then 8 bytes = that f64 (little-endian); otherwise `(t - 16) / 4`.
//! * `K`, a key array: header `h`; `h & 0x0F` elements follow, each an `S`. `h & 0x10`: pass a
//!   NULL array, with count `usize::MAX` if `h & 0x20` else the element count. `h & 0x40`:
//!   repeat the elements 16 times.
//! * `G`, getter flags: bit 0 = `out` NULL, bit 1 = `out_len` NULL, bit 2 = manager NULL.
//!
//! | op | arguments   | call                                                                        |
//! |----|-------------|-----------------------------------------------------------------------------|
//! | 0  | sel, S      | string setter `sel % 7` (secret_id, region, config_path, version_stage, version_id, endpoint_url, ttl) on the live options; a config path is made relative to the temporary directory |
//! | 1  | S, S        | `set_config_yaml(name, yaml)` on the live options                           |
//! | 2  | sel, F      | seconds setter `sel % 3` (ttl, timeout, max_stale) on the live options      |
//! | 3  | sel, S/F... | setter `(sel & 0x7F) % 11` (the 7, config_yaml, the 3) on the scratch options, or on NULL if `sel & 0x80`; raw strings |
//! | 4  | sel, S      | write the bytes of S (all of them, NULs included) to file `sel % 4` of a.yaml, b.yml, c.yaml, d.txt in the temporary directory; NULL removes it |
//! | 5  |             | free the live options and make new ones                                     |
//! | 6  | sel         | make the manager (freeing the previous): `sel % 4` = from the live options, `_new_default`, NULL options, NULL out |
//! | 7  | G, S        | `get_string(manager, path)`                                                 |
//! | 8  | G, S        | `get_json(manager, path)`                                                   |
//! | 9  | G, K        | `get_string_path(manager, keys, n)`                                         |
//! | 10 | G, K        | `get_json_path(manager, keys, n)`                                           |
//! | 11 | sel, G      | `sel % 6`: get_document_json, get_binary, refresh, invalidate, stats_json, location with a NULL out-param |
//! | 12 | 4 bytes     | `result_name(u32 little-endian)`                                            |
//! | 13 | b           | `last_error_message` into a buffer of `b` bytes (`0xFF`: NULL buffer, length 5) |
//! | 14 |             | the free functions with NULL, `version()`, `abi_version()`                  |
#![no_main]

use std::ffi::{c_char, CStr};
use std::path::PathBuf;
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use starfleet_secrets_c::*;
use starfleet_secrets::{Code, Path};

type R = starfleet_secrets_result;

const MAX_OPS: usize = 64;
const MAX_LONG: usize = 64 * 1024;
const FILES: [&str; 4] = ["a.yaml", "b.yml", "c.yaml", "d.txt"];
const SPECIALS: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    0.0,
    -1.0,
    1e12,
    999_999_999_999.999_9,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    1e-9,
    0.05,
    300.0,
    -f64::NAN,
    1e-10,
];

/// The private directory config files are written to (and config paths point into).
fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Once, before any thread exists: nothing from the environment may point a manager
        // at a real secret, a region or a configuration.
        let names: Vec<_> = std::env::vars_os()
            .filter_map(|(k, _)| {
                let s = k.to_string_lossy();
                (s.starts_with("STARFLEET") || s.starts_with("AWS_")).then_some(k)
            })
            .collect();
        for k in names {
            std::env::remove_var(k);
        }
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::temp_dir().join(format!("starfleet-fuzz-capi-{}", std::process::id()))
    })
}

/// The input, read front to back; past its end everything reads as 0 / empty.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u8(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    fn bytes_arg(&mut self, depth: u8) -> Option<Vec<u8>> {
        match self.u8() {
            0xFF => None,
            0xFE if depth == 0 => {
                let times = (self.u8() as usize + 1) * 64;
                let chunk = self.bytes_arg(1).unwrap_or_default();
                let times = times.min(MAX_LONG / chunk.len().max(1));
                Some(chunk.repeat(times))
            }
            n => Some(self.take(n as usize).to_vec()),
        }
    }
    fn str_arg(&mut self) -> CArg {
        CArg::new(self.bytes_arg(0))
    }
    fn f64_arg(&mut self) -> f64 {
        match self.u8() {
            t if (t as usize) < SPECIALS.len() => SPECIALS[t as usize],
            0xFF => {
                let mut b = [0u8; 8];
                let raw = self.take(8);
                b[..raw.len()].copy_from_slice(raw);
                f64::from_le_bytes(b)
            }
            t => f64::from(t - 16) / 4.0,
        }
    }
}

/// A C string argument: NULL, or bytes with a NUL appended.
struct CArg(Option<Vec<u8>>);

impl CArg {
    fn new(bytes: Option<Vec<u8>>) -> CArg {
        CArg(bytes.map(|mut b| {
            b.push(0);
            b
        }))
    }
    fn ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(ptr::null(), |b| b.as_ptr().cast())
    }
    /// What the library sees: None for NULL, else the text up to the first NUL if UTF-8.
    fn seen(&self) -> Option<Result<&str, ()>> {
        let b = self.0.as_ref()?;
        let c = CStr::from_bytes_until_nul(b).unwrap();
        Some(c.to_str().map_err(drop))
    }
    fn valid(&self) -> Option<&str> {
        self.seen().and_then(Result::ok)
    }
}

/// A config path argument that stays inside the temporary directory: `/` becomes `_` and the
/// string is appended to the directory (so `""` and `"."` name the directory itself).
fn confined(arg: CArg) -> CArg {
    let Some(b) = arg.0 else { return arg };
    let end = b.iter().position(|&c| c == 0).unwrap();
    let mut name: Vec<u8> = b[..end].iter().map(|&c| if c == b'/' { b'_' } else { c }).collect();
    if name == b".." {
        name = b"_..".to_vec();
    }
    let mut full = dir().as_os_str().as_encoded_bytes().to_vec();
    full.push(b'/');
    full.extend_from_slice(&name);
    CArg::new(Some(full))
}

/// The last error message, read in full (sized first), checked to be C-readable.
fn last_message() -> String {
    let mut n = usize::MAX;
    assert_eq!(
        unsafe { starfleet_secrets_last_error_message(ptr::null_mut(), 0, &mut n) },
        R::Ok
    );
    let mut buf = vec![0x7f as c_char; n + 1];
    let mut m = 0;
    assert_eq!(
        unsafe { starfleet_secrets_last_error_message(buf.as_mut_ptr(), buf.len(), &mut m) },
        R::Ok
    );
    assert_eq!(m, n);
    let bytes: Vec<u8> = buf.iter().map(|&c| c as u8).collect();
    assert_eq!(bytes[n], 0, "message not NUL-terminated");
    assert!(
        !bytes[..n].contains(&0),
        "NUL inside the message: {:?}",
        String::from_utf8_lossy(&bytes[..n])
    );
    String::from_utf8(bytes[..n].to_vec()).expect("message is not UTF-8")
}

fn name_of(r: u32) -> &'static str {
    unsafe { CStr::from_ptr(starfleet_secrets_result_name(r)) }
        .to_str()
        .expect("result name is not UTF-8")
}

/// The checks every result gets; returns the result and its message.
#[track_caller]
fn check(what: &str, r: R) -> (R, String) {
    let n = r as u32;
    assert!(n <= Code::ALL.len() as u32, "{what}: result {n} out of range");
    let message = last_message();
    assert_ne!(r, R::Internal, "{what}: INTERNAL (a caught panic): {message}");
    assert_eq!(starfleet_secrets_last_error_code(), r, "{what}: last_error_code");
    if r == R::Ok {
        assert_eq!(message, "", "{what}: success leaves a message");
    } else {
        let prefix = format!("{}: ", name_of(n));
        assert!(
            message.starts_with(&prefix),
            "{what}: {message:?} does not start with {prefix:?}"
        );
    }
    (r, message)
}

#[track_caller]
fn expect(what: &str, r: R, want: R) -> String {
    let (r, message) = check(what, r);
    assert_eq!(r, want, "{what}: {message}");
    message
}

/// Take and free a string handed out by the library, checking it and its length.
unsafe fn take_string(s: *mut c_char, len: Option<usize>) -> String {
    assert!(!s.is_null());
    let text = CStr::from_ptr(s)
        .to_str()
        .expect("handed-out string is not UTF-8")
        .to_owned();
    if let Some(len) = len {
        assert_eq!(text.len(), len);
    }
    starfleet_secrets_string_free(s);
    text
}

type StrSetter = unsafe extern "C" fn(*mut starfleet_secrets_options, *const c_char) -> R;
type SecsSetter = unsafe extern "C" fn(*mut starfleet_secrets_options, f64) -> R;

const STR_SETTERS: [(&str, StrSetter); 7] = [
    ("set_secret_id", starfleet_secrets_options_set_secret_id),
    ("set_region", starfleet_secrets_options_set_region),
    ("set_config_path", starfleet_secrets_options_set_config_path),
    ("set_version_stage", starfleet_secrets_options_set_version_stage),
    ("set_version_id", starfleet_secrets_options_set_version_id),
    ("set_endpoint_url", starfleet_secrets_options_set_endpoint_url),
    ("set_ttl", starfleet_secrets_options_set_ttl),
];
const SECS_SETTERS: [(&str, SecsSetter); 3] = [
    ("set_ttl_seconds", starfleet_secrets_options_set_ttl_seconds),
    ("set_timeout_seconds", starfleet_secrets_options_set_timeout_seconds),
    ("set_max_stale_seconds", starfleet_secrets_options_set_max_stale_seconds),
];

unsafe fn str_setter(sel: usize, opts: *mut starfleet_secrets_options, arg: &CArg) {
    let (what, f) = STR_SETTERS[sel];
    let (r, message) = check(what, f(opts, arg.ptr()));
    match (opts.is_null(), arg.seen()) {
        (true, _) | (_, None) | (_, Some(Err(()))) => assert_eq!(r, R::InvalidArgument, "{what}: {message}"),
        (false, Some(Ok(text))) if what == "set_ttl" => {
            let never = text.trim().eq_ignore_ascii_case("never");
            assert!(
                r == R::Ok || (r == R::InvalidArgument && !never),
                "{what}({text:?}): {message}"
            );
        }
        (false, Some(Ok(_))) => assert_eq!(r, R::Ok, "{what}: {message}"),
    }
}

unsafe fn yaml_setter(opts: *mut starfleet_secrets_options, name: &CArg, yaml: &CArg) {
    let r = starfleet_secrets_options_set_config_yaml(opts, name.ptr(), yaml.ptr());
    let ok = !opts.is_null() && name.valid().is_some() && yaml.valid().is_some();
    expect("set_config_yaml", r, if ok { R::Ok } else { R::InvalidArgument });
}

unsafe fn secs_setter(sel: usize, opts: *mut starfleet_secrets_options, x: f64) {
    let (what, f) = SECS_SETTERS[sel];
    let (r, message) = check(what, f(opts, x));
    if opts.is_null() || x.is_nan() || x.is_infinite() || x < 0.0 {
        assert_eq!(r, R::InvalidArgument, "{what}({x}): {message}");
    } else if x <= 1e11 {
        assert_eq!(r, R::Ok, "{what}({x}): {message}");
    } else {
        assert!(matches!(r, R::Ok | R::InvalidArgument), "{what}({x}): {message}");
    }
}

/// Whether `m`'s settings fail to resolve, and with what: then nothing can fetch.
unsafe fn location_error(m: *const starfleet_secrets_manager) -> Option<(R, String)> {
    let (mut id, mut region) = (ptr::null_mut(), ptr::null_mut());
    let (r, message) = check("location", starfleet_secrets_manager_location(m, &mut id, &mut region));
    if r != R::Ok {
        assert!(id.is_null() && region.is_null(), "out-params written on failure");
        assert!(
            matches!(r, R::ConfigMissing | R::ConfigInvalid | R::InvalidArgument),
            "location: {message}"
        );
        return Some((r, message));
    }
    let id = take_string(id, None);
    let region = take_string(region, None);
    assert!(!id.trim().is_empty(), "resolved an empty secret id");
    assert!(
        starfleet_secrets::config::check_region(&region).is_ok(),
        "resolved region {region:?}"
    );
    None
}

/// A manager whose stats must show that nothing was ever fetched.
unsafe fn free_manager(m: *mut starfleet_secrets_manager) {
    if m.is_null() {
        return;
    }
    let (mut out, mut len) = (ptr::null_mut(), 0usize);
    expect(
        "stats_json",
        starfleet_secrets_manager_stats_json(m, &mut out, &mut len),
        R::Ok,
    );
    let stats: serde_json::Value = serde_json::from_str(&take_string(out, Some(len))).expect("stats JSON");
    assert_eq!(stats["fetches"], 0, "a fetch happened: {stats}");
    assert_eq!(stats["misses"], 0, "a fetch was attempted: {stats}");
    starfleet_secrets_manager_free(m);
}

struct State {
    live: *mut starfleet_secrets_options,
    scratch: *mut starfleet_secrets_options,
    manager: *mut starfleet_secrets_manager,
    wrote_files: bool,
}

impl State {
    unsafe fn new() -> State {
        State {
            live: new_options(),
            scratch: new_options(),
            manager: ptr::null_mut(),
            wrote_files: false,
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        unsafe {
            free_manager(self.manager);
            starfleet_secrets_options_free(self.live);
            starfleet_secrets_options_free(self.scratch);
        }
        if self.wrote_files {
            let _ = std::fs::remove_dir_all(dir());
        }
    }
}

unsafe fn new_options() -> *mut starfleet_secrets_options {
    let mut o = ptr::null_mut();
    expect("options_new", starfleet_secrets_options_new(&mut o), R::Ok);
    assert!(!o.is_null());
    o
}

/// A getter's target: the manager (or NULL), whether out-params may be real, and the error
/// a fetch would stop with.
struct Target {
    m: *const starfleet_secrets_manager,
    out_null: bool,
    out_len_null: bool,
    fails_with: Option<(R, String)>,
}

unsafe fn target(st: &State, flags: u8) -> Target {
    let m: *const starfleet_secrets_manager = if flags & 4 != 0 { ptr::null() } else { st.manager };
    let fails_with = if m.is_null() { None } else { location_error(m) };
    Target {
        m,
        // Real out-params only where the fetch is sure to stop at the settings.
        out_null: flags & 1 != 0 || (!m.is_null() && fails_with.is_none()),
        out_len_null: flags & 2 != 0,
        fails_with,
    }
}

/// The expected outcome of a getter once its path (if any) was judged `path_ok`.
fn expect_getter(what: &str, t: &Target, path_ok: bool, r: R) {
    let (r, message) = check(what, r);
    if t.m.is_null() || !path_ok || t.out_null {
        assert_eq!(r, R::InvalidArgument, "{what}: {message}");
    } else {
        let (want, want_message) = t.fails_with.as_ref().expect("real out-params on a resolvable manager");
        assert_eq!(
            (r, &message),
            (*want, want_message),
            "{what}: the fetch did not stop at the settings"
        );
    }
}

unsafe fn out_ptrs(t: &Target, out: &mut *mut c_char, len: &mut usize) -> (*mut *mut c_char, *mut usize) {
    (
        if t.out_null { ptr::null_mut() } else { out },
        if t.out_len_null { ptr::null_mut() } else { len },
    )
}

unsafe fn get_dotted(st: &State, json: bool, flags: u8, path: &CArg) {
    let t = target(st, flags);
    let path_ok = path.valid().is_some_and(|p| Path::parse_dotted(p).is_ok());
    let (mut out, mut len) = (ptr::null_mut(), usize::MAX);
    let (o, l) = out_ptrs(&t, &mut out, &mut len);
    let (what, r) = if json {
        ("get_json", starfleet_secrets_manager_get_json(t.m, path.ptr(), o, l))
    } else {
        (
            "get_string",
            starfleet_secrets_manager_get_string(t.m, path.ptr(), o, l),
        )
    };
    assert!(
        out.is_null() && len == usize::MAX,
        "{what}: out-params written on failure"
    );
    expect_getter(what, &t, path_ok, r);
}

unsafe fn get_keys(st: &State, json: bool, flags: u8, input: &mut Input<'_>) {
    let h = input.u8();
    let mut elems: Vec<CArg> = (0..h & 0x0F).map(|_| input.str_arg()).collect();
    if h & 0x40 != 0 {
        let once: Vec<Option<Vec<u8>>> = elems.iter().map(|e| e.0.clone()).collect();
        elems = (0..16).flat_map(|_| once.iter().cloned()).map(|b| CArg(b)).collect();
    }
    let ptrs: Vec<*const c_char> = elems.iter().map(CArg::ptr).collect();
    let (keys, n) = if h & 0x10 != 0 {
        (ptr::null(), if h & 0x20 != 0 { usize::MAX } else { elems.len() })
    } else {
        (ptrs.as_ptr(), ptrs.len())
    };
    let path_ok = if n == 0 {
        Path::from_args::<&str>(&[]).is_ok()
    } else if keys.is_null() {
        false
    } else {
        let texts: Option<Vec<&str>> = elems.iter().map(CArg::valid).collect();
        texts.is_some_and(|t| Path::from_args(&t).is_ok())
    };
    let t = target(st, flags);
    let (mut out, mut len) = (ptr::null_mut(), usize::MAX);
    let (o, l) = out_ptrs(&t, &mut out, &mut len);
    let (what, r) = if json {
        (
            "get_json_path",
            starfleet_secrets_manager_get_json_path(t.m, keys, n, o, l),
        )
    } else {
        (
            "get_string_path",
            starfleet_secrets_manager_get_string_path(t.m, keys, n, o, l),
        )
    };
    assert!(
        out.is_null() && len == usize::MAX,
        "{what}: out-params written on failure"
    );
    expect_getter(what, &t, path_ok, r);
}

unsafe fn other(st: &State, sel: u8, flags: u8) {
    let t = target(st, flags);
    let (mut out, mut len) = (ptr::null_mut::<c_char>(), usize::MAX);
    match sel % 6 {
        0 => {
            let (o, l) = out_ptrs(&t, &mut out, &mut len);
            let r = starfleet_secrets_manager_get_document_json(t.m, o, l);
            assert!(out.is_null(), "get_document_json: out written on failure");
            expect_getter("get_document_json", &t, true, r);
        }
        1 => {
            let mut b = ptr::null_mut::<u8>();
            let o = if t.out_null {
                ptr::null_mut()
            } else {
                &mut b as *mut *mut u8
            };
            let l = if t.out_len_null {
                ptr::null_mut()
            } else {
                &mut len as *mut usize
            };
            let r = starfleet_secrets_manager_get_binary(t.m, o, l);
            assert!(b.is_null(), "get_binary: out written on failure");
            // Both out-params are required, and checked before the fetch.
            let t = Target {
                out_null: t.out_null || t.out_len_null,
                ..t
            };
            expect_getter("get_binary", &t, true, r);
        }
        2 => {
            // Fetches unconditionally: only where the settings are sure to fail (or no manager).
            if t.m.is_null() || t.fails_with.is_some() {
                let t = Target { out_null: false, ..t };
                expect_getter("refresh", &t, true, starfleet_secrets_manager_refresh(t.m));
            }
        }
        3 => {
            let want = if t.m.is_null() { R::InvalidArgument } else { R::Ok };
            expect("invalidate", starfleet_secrets_manager_invalidate(t.m), want);
        }
        4 => {
            let (o, l) = out_ptrs(&t, &mut out, &mut len);
            let r = starfleet_secrets_manager_stats_json(t.m, o, l);
            let want = if t.m.is_null() || t.out_null {
                R::InvalidArgument
            } else {
                R::Ok
            };
            expect("stats_json", r, want);
            if r == R::Ok {
                let text = take_string(out, (!t.out_len_null).then_some(len));
                let v: serde_json::Value = serde_json::from_str(&text).expect("stats JSON");
                assert_eq!(v["fetches"], 0, "a fetch happened: {v}");
            }
        }
        _ => {
            let mut s = ptr::null_mut();
            let (a, b): (*mut *mut c_char, *mut *mut c_char) = if flags & 1 != 0 {
                (ptr::null_mut(), &mut s)
            } else {
                (&mut s, ptr::null_mut())
            };
            expect(
                "location",
                starfleet_secrets_manager_location(t.m, a, b),
                R::InvalidArgument,
            );
            assert!(s.is_null(), "location: out-param written on failure");
        }
    }
}

unsafe fn new_manager(st: &mut State, sel: u8) {
    free_manager(std::mem::replace(&mut st.manager, ptr::null_mut()));
    let mut m = ptr::null_mut();
    match sel % 4 {
        0 => expect("manager_new", starfleet_secrets_manager_new(st.live, &mut m), R::Ok),
        1 => expect(
            "manager_new_default",
            starfleet_secrets_manager_new_default(&mut m),
            R::Ok,
        ),
        2 => expect(
            "manager_new(NULL)",
            starfleet_secrets_manager_new(ptr::null(), &mut m),
            R::InvalidArgument,
        ),
        _ => expect(
            "manager_new(out NULL)",
            starfleet_secrets_manager_new(st.live, ptr::null_mut()),
            R::InvalidArgument,
        ),
    };
    st.manager = m;
    if sel % 4 == 1 {
        // The environment was cleared: the default location cannot resolve.
        let (r, message) = location_error(m).expect("default manager resolved a location");
        assert_eq!(r, R::ConfigMissing, "{message}");
    }
}

unsafe fn last_error_into(b: u8) {
    let code = starfleet_secrets_last_error_code();
    let full = last_message();
    if b == 0xFF {
        let mut n = 7usize;
        let r = starfleet_secrets_last_error_message(ptr::null_mut(), 5, &mut n);
        assert_eq!(r, R::InvalidArgument);
        assert_eq!(n, 7, "out_len written on failure");
    } else {
        let mut buf = vec![0x7f as c_char; b as usize];
        let mut n = 0usize;
        let r = starfleet_secrets_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n);
        assert_eq!(r, R::Ok);
        assert_eq!(n, full.len());
        if let Some(room) = (b as usize).checked_sub(1) {
            let mut cut = full.len().min(room);
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            let got: Vec<u8> = buf[..=cut].iter().map(|&c| c as u8).collect();
            assert_eq!(&got[..cut], &full.as_bytes()[..cut], "truncated message");
            assert_eq!(got[cut], 0, "truncated message not NUL-terminated");
            assert!(buf[cut + 1..].iter().all(|&c| c == 0x7f), "wrote past the NUL");
        }
    }
    // Reading the message changes nothing.
    assert_eq!(starfleet_secrets_last_error_code(), code);
    assert_eq!(last_message(), full);
}

unsafe fn write_file(st: &mut State, sel: u8, content: Option<Vec<u8>>) {
    let path = dir().join(FILES[sel as usize % FILES.len()]);
    match content {
        Some(bytes) => {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(path, bytes).unwrap();
            st.wrote_files = true;
        }
        None => {
            let _ = std::fs::remove_file(path);
        }
    }
}

unsafe fn run(input: &mut Input<'_>) {
    let mut st = State::new();
    for _ in 0..MAX_OPS {
        let Some(op) = input.byte() else { break };
        match op % 15 {
            0 => {
                let sel = input.u8() as usize % STR_SETTERS.len();
                let mut arg = input.str_arg();
                if STR_SETTERS[sel].0 == "set_config_path" {
                    arg = confined(arg);
                }
                str_setter(sel, st.live, &arg);
            }
            1 => {
                let (name, yaml) = (input.str_arg(), input.str_arg());
                yaml_setter(st.live, &name, &yaml);
            }
            2 => {
                let sel = input.u8() as usize % SECS_SETTERS.len();
                secs_setter(sel, st.live, input.f64_arg());
            }
            3 => {
                let sel = input.u8();
                let opts = if sel & 0x80 != 0 { ptr::null_mut() } else { st.scratch };
                match (sel & 0x7F) as usize % 11 {
                    s @ 0..=6 => str_setter(s, opts, &input.str_arg()),
                    7 => {
                        let (name, yaml) = (input.str_arg(), input.str_arg());
                        yaml_setter(opts, &name, &yaml);
                    }
                    s => secs_setter(s - 8, opts, input.f64_arg()),
                }
            }
            4 => {
                let sel = input.u8();
                let content = input.bytes_arg(0);
                write_file(&mut st, sel, content);
            }
            5 => {
                starfleet_secrets_options_free(st.live);
                st.live = new_options();
            }
            6 => new_manager(&mut st, input.u8()),
            7 | 8 => {
                let flags = input.u8();
                let path = input.str_arg();
                get_dotted(&st, op % 15 == 8, flags, &path);
            }
            9 | 10 => {
                let flags = input.u8();
                get_keys(&st, op % 15 == 10, flags, input);
            }
            11 => {
                let (sel, flags) = (input.u8(), input.u8());
                other(&st, sel, flags);
            }
            12 => {
                let mut b = [0u8; 4];
                let raw = input.take(4);
                b[..raw.len()].copy_from_slice(raw);
                let n = u32::from_le_bytes(b);
                let want = match n {
                    0 => "OK",
                    n => Code::ALL
                        .iter()
                        .find(|c| c.number() == n)
                        .map_or("UNKNOWN", |c| c.as_str()),
                };
                assert_eq!(name_of(n), want);
            }
            13 => last_error_into(input.u8()),
            _ => {
                starfleet_secrets_string_free(ptr::null_mut());
                starfleet_secrets_bytes_free(ptr::null_mut());
                starfleet_secrets_options_free(ptr::null_mut());
                starfleet_secrets_manager_free(ptr::null_mut());
                expect(
                    "options_new(NULL)",
                    starfleet_secrets_options_new(ptr::null_mut()),
                    R::InvalidArgument,
                );
                let v = CStr::from_ptr(starfleet_secrets_version()).to_str().unwrap();
                assert_eq!(v, starfleet_secrets::VERSION);
                assert_eq!(starfleet_secrets_abi_version(), STARFLEET_SECRETS_ABI_VERSION);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = dir();
    unsafe { run(&mut Input(data)) }
});
