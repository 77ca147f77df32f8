//! The options object of `new SecretsManager({...})` and `configure({...})`, and the host's
//! configuration the facade hands over before each load.
//!
//! Only a change of shape happens here: JS values to core's [`OptionValue`]s by their type.
//! Names, types, ranges, precedence (argument, environment, Starfleet configuration) and
//! validation are core's; the typing of the options is `ManagerOptions` in `index.d.ts`,
//! checked against core's description by `core/tests/options_described.rs`.

use napi::bindgen_prelude::{JsObjectValue, JsValue, Object, Unknown};
use napi::ValueType;
use napi_derive::napi;
use starfleet_secrets::options::{Naming, OptionValue};
use starfleet_secrets::{Code, ConfigSource, Error, Options, Result};

/// A Starfleet configuration given as YAML text instead of a path.
#[napi(object)]
pub struct ConfigText {
    /// The YAML document.
    pub yaml: String,
    /// The name error messages use for it (default `"config"`).
    pub name: Option<String>,
}

/// A configuration the host application holds (the facade's `config` given as a parsed
/// Starfleet configuration object or a function), as the facade hands it over before each
/// load: one of `path`, `text` or `loadedJson`.
#[napi(object)]
pub struct HostConfig {
    /// A YAML file or directory (what a `config` function returned).
    pub path: Option<String>,
    /// Inline YAML (what a `config` function returned).
    pub text: Option<ConfigText>,
    /// The host's parsed configuration as JSON text (its `STARFLEET` stanza: nothing else is
    /// read), validated by core's rules.
    pub loaded_json: Option<String>,
    /// What messages call it.
    pub name: Option<String>,
}

impl HostConfig {
    /// Core's configuration source, or INVALID_ARGUMENT.
    pub fn into_core(self) -> Result<ConfigSource> {
        let name = self
            .name
            .unwrap_or_else(|| "the configuration object (option config)".to_owned());
        match (self.path, self.text, self.loaded_json) {
            (Some(path), None, None) => Ok(ConfigSource::Path(path.into())),
            (None, Some(text), None) => Ok(text_source(text)),
            (None, None, Some(json)) => {
                let tree = serde_json::from_str(&json)
                    .map_err(|e| Error::new(Code::InvalidArgument, format!("{name}: not a JSON object ({e})")))?;
                Ok(ConfigSource::Loaded { name, tree })
            }
            _ => Err(Error::new(
                Code::InvalidArgument,
                "a host configuration is one of path, text or loadedJson",
            )),
        }
    }
}

fn text_source(text: ConfigText) -> ConfigSource {
    ConfigSource::Text {
        name: text.name.unwrap_or_else(|| "config".to_owned()),
        yaml: text.yaml,
    }
}

/// Core's options from the facade's options object, passed through whole to
/// [`Options::from_map`]: each value converted by its JS type alone (no option is named here),
/// so unknown names and wrong types are core's INVALID_ARGUMENT, naming the option in camel
/// case. `config` as a function or a parsed configuration object never gets here: the facade
/// keeps it and hands it over with `useConfig` before each load.
pub fn from_js(options: Option<Object<'_>>) -> Result<Options> {
    let Some(options) = options else {
        return Ok(Options::default());
    };
    let mut entries = Vec::new();
    for name in Object::keys(&options).map_err(napi_failed)? {
        let value: Unknown<'_> = options.get_named_property(&name).map_err(napi_failed)?;
        entries.push((name, by_type(value).map_err(napi_failed)?));
    }
    Options::from_map(entries, Naming::Camel)
}

/// One value by its JS type: `None` for `undefined` and `null` (the option is not given).
fn by_type(value: Unknown<'_>) -> napi::Result<Option<OptionValue>> {
    // SAFETY (every `cast`): the type was checked with `get_type` just before.
    Ok(Some(match value.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::String => OptionValue::Text(unsafe { value.cast::<String>()? }),
        ValueType::Number => OptionValue::Number(unsafe { value.cast::<f64>()? }),
        ValueType::Object if value.is_array()? => {
            let items = unsafe { value.cast::<Vec<Unknown<'_>>>()? };
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                if item.get_type()? != ValueType::String {
                    return Ok(Some(OptionValue::Other("an array of non-strings".into())));
                }
                list.push(unsafe { item.cast::<String>()? });
            }
            OptionValue::List(list)
        }
        // `{ yaml, name? }`: inline YAML (the facade keeps every other plain object).
        ValueType::Object => {
            let object = unsafe { value.cast::<Object<'_>>()? };
            match object.get::<String>("yaml") {
                Ok(Some(yaml)) => OptionValue::Config(text_source(ConfigText {
                    yaml,
                    name: object.get::<String>("name").ok().flatten(),
                })),
                _ => OptionValue::Other("object".into()),
            }
        }
        ValueType::Boolean => OptionValue::Flag(unsafe { value.cast::<bool>()? }),
        other => OptionValue::Other(format!("{other}").to_lowercase()),
    }))
}

/// A failed Node-API call while reading the options object.
fn napi_failed(e: napi::Error) -> Error {
    Error::new(Code::Internal, format!("Node-API call failed reading the options: {e}"))
}
