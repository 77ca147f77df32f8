//! Secret text and a key path (split at the first NUL) → parse, look up, render.
//! Properties: no panic; a rendered path parses back to itself; errors and Debug never
//! contain the looked-up string value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starfleet_secrets::{Code, Document, Path};
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let (doc, path) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let path = String::from_utf8_lossy(path);
    if let Ok(p) = Path::parse_dotted(&path) {
        assert_eq!(Path::parse_dotted(&p.to_string()).as_ref(), Ok(&p), "render/parse round trip");
    }
    let text = Zeroizing::new(String::from_utf8_lossy(doc).into_owned());
    let document = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            assert_eq!(e.code(), Code::SecretFormat);
            return;
        }
    };
    let _ = format!("{document:?} {document}");
    let Ok(p) = Path::parse_dotted(&path) else { return };
    match document.get_str(&p) {
        Ok(value) if value.len() >= 8 => {
            // A long-enough value must not leak into messages about its neighbours.
            let deeper = Path::from_keys(p.keys().iter().cloned().chain(["x".to_owned()])).unwrap();
            let e = document.get(&deeper).unwrap_err();
            assert!(!e.message().contains(value) || p.to_string().contains(value), "{e}");
        }
        Ok(_) => {}
        Err(e) => assert!(matches!(e.code(), Code::KeyNotFound | Code::SecretFormat)),
    }
});
