//! Secret text and a key path (split at the first NUL) → parse, look up, render.
//! Properties: no panic; a rendered path parses back to itself; an error about a path below a
//! string value is the same whatever that value is.
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
        Ok(_) => {
            // A value must not leak into messages about its neighbours: the message for a
            // path below it is the one the same path gets when the value is a canary. (A
            // substring check fails on values such as "ot an object", which the message's
            // own words contain.)
            let deeper = Path::from_keys(p.keys().iter().cloned().chain(["x".to_owned()])).unwrap();
            let e = document.get(&deeper).unwrap_err();
            let canary = p.keys().iter().rev().fold(serde_json::json!("canary"), |inner, key| {
                serde_json::json!({ key.as_str(): inner })
            });
            let canary = Document::parse(Zeroizing::new(canary.to_string())).unwrap();
            let expected = canary.get(&deeper).unwrap_err();
            assert_eq!(format!("{e} {e:?}"), format!("{expected} {expected:?}"), "depends on the value");
        }
        Err(e) => assert!(matches!(e.code(), Code::KeyNotFound | Code::SecretFormat)),
    }
});
