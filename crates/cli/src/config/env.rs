//! The one way Paperboy reads its `PAPERBOY_*` environment variables: a
//! snapshot taken once at start ([`Env::process`]) or built by a test
//! ([`Env::from_pairs`]), read with one typed call ([`Env::get`]) whose error
//! names the variable, its value and what was expected. An empty (or
//! all-blank) variable counts as unset.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Result, bail};
use paperboy_arxiv::MetadataFormat;

/// The `PAPERBOY_*` variables of the process (or of a test).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Name to value; `Err` holds a value that is not UTF-8.
    vars: BTreeMap<String, Result<String, OsString>>,
}

impl Env {
    /// The process's `PAPERBOY_*` variables, read now.
    pub fn process() -> Env {
        let vars = std::env::vars_os()
            .filter_map(|(name, value)| {
                let name = name.into_string().ok()?;
                name.starts_with("PAPERBOY_").then(|| (name, value.into_string()))
            })
            .collect();
        Env { vars }
    }

    /// An environment holding exactly these variables.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        Env { vars: pairs.iter().map(|(k, v)| (k.to_string(), Ok(v.to_string()))).collect() }
    }

    /// `name` parsed as a `T` with the text it came from: `None` when unset
    /// or blank, an error naming the variable, its value and the expected
    /// form when it does not parse.
    pub fn get<T: FromEnv>(&self, name: &str) -> Result<Option<Var<T>>> {
        self.read(name, false)
    }

    /// [`Env::get`] for the few keys where `""` is a value of its own (such
    /// as "the whole archive"): `None` only when unset.
    pub fn get_keeping_empty<T: FromEnv>(&self, name: &str) -> Result<Option<Var<T>>> {
        self.read(name, true)
    }

    fn read<T: FromEnv>(&self, name: &str, keep_empty: bool) -> Result<Option<Var<T>>> {
        let text = match self.vars.get(name) {
            None => return Ok(None),
            Some(Ok(v)) if v.trim().is_empty() && !keep_empty => return Ok(None),
            Some(Ok(v)) => v,
            Some(Err(raw)) => bail!("{name}={raw:?} is not valid UTF-8: give the value as text"),
        };
        Ok(Some(Var { value: parse_named(name, text)?, text: text.clone() }))
    }
}

/// A variable's value, and the text it was read from (for messages).
#[derive(Debug, Clone, PartialEq)]
pub struct Var<T> {
    pub value: T,
    pub text: String,
}

/// `text` (the value of variable `name`) as a `T`, or the error that says so.
fn parse_named<T: FromEnv>(name: &str, text: &str) -> Result<T> {
    match T::from_env(text) {
        Some(v) => Ok(v),
        None => bail!("{name}={text:?} is not valid: expected {}", T::EXPECTED),
    }
}

/// A type a setting's text converts to.
pub trait FromEnv: Sized {
    /// What a valid value looks like, for error messages ("a whole number").
    const EXPECTED: &'static str;
    /// The value of `text`, or `None` when it is not one.
    fn from_env(text: &str) -> Option<Self>;
}

impl FromEnv for String {
    const EXPECTED: &'static str = "text";
    fn from_env(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
}

impl FromEnv for PathBuf {
    const EXPECTED: &'static str = "a path";
    fn from_env(text: &str) -> Option<Self> {
        Some(PathBuf::from(text))
    }
}

impl FromEnv for bool {
    const EXPECTED: &'static str = "true or false (also yes/no, on/off, 1/0)";
    fn from_env(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        }
    }
}

macro_rules! whole_number {
    ($($t:ty => $expected:literal),*) => {$(
        impl FromEnv for $t {
            const EXPECTED: &'static str = $expected;
            fn from_env(text: &str) -> Option<Self> {
                text.trim().parse().ok()
            }
        }
    )*};
}

whole_number!(u16 => "a whole number from 0 to 65535", u32 => "a whole number", u64 => "a whole number",
    usize => "a whole number");

impl FromEnv for f64 {
    const EXPECTED: &'static str = "a number such as 2 or 0.5";
    fn from_env(text: &str) -> Option<Self> {
        text.trim().parse().ok().filter(|v: &f64| v.is_finite())
    }
}

/// A list: items separated by commas or spaces (`cs.LG, stat.ML`).
impl FromEnv for Vec<String> {
    const EXPECTED: &'static str = "a list separated by commas or spaces";
    fn from_env(text: &str) -> Option<Self> {
        Some(split_list(text))
    }
}

impl FromEnv for MetadataFormat {
    const EXPECTED: &'static str = "arXivRaw or arXiv";
    fn from_env(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FromEnv for paperboy_search::Evidence {
    const EXPECTED: &'static str = "off, passages or sentences";
    fn from_env(text: &str) -> Option<Self> {
        paperboy_search::Evidence::parse(text)
    }
}

/// The items of a list written on one line, separated by commas or spaces.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_unset_and_values_are_typed() {
        let env = Env::from_pairs(&[
            ("PAPERBOY_A", ""),
            ("PAPERBOY_B", "  "),
            ("PAPERBOY_N", " 42 "),
            ("PAPERBOY_ON", "Yes"),
            ("PAPERBOY_L", "cs.LG, stat.ML cs.CV"),
        ]);
        let value = |name: &str| env.get::<u64>(name).unwrap().map(|v| v.value);
        assert_eq!(env.get::<String>("PAPERBOY_A").unwrap(), None);
        assert_eq!((value("PAPERBOY_B"), value("PAPERBOY_MISSING"), value("PAPERBOY_N")), (None, None, Some(42)));
        assert_eq!(env.get::<u64>("PAPERBOY_N").unwrap().unwrap().text, " 42 ");
        assert!(env.get::<bool>("PAPERBOY_ON").unwrap().unwrap().value);
        assert_eq!(env.get::<Vec<String>>("PAPERBOY_L").unwrap().unwrap().value, ["cs.LG", "stat.ML", "cs.CV"]);
        assert_eq!(env.get_keeping_empty::<String>("PAPERBOY_A").unwrap().unwrap().value, "");
    }

    #[test]
    fn a_bad_value_names_the_variable_the_value_and_the_expected_form() {
        let env = Env::from_pairs(&[("PAPERBOY_JOB_LEASE_SECONDS", "soon"), ("PAPERBOY_HARVEST_ENABLED", "perhaps")]);
        let err = env.get::<u64>("PAPERBOY_JOB_LEASE_SECONDS").unwrap_err().to_string();
        assert_eq!(err, "PAPERBOY_JOB_LEASE_SECONDS=\"soon\" is not valid: expected a whole number");
        let err = env.get::<bool>("PAPERBOY_HARVEST_ENABLED").unwrap_err().to_string();
        assert!(err.contains("PAPERBOY_HARVEST_ENABLED=\"perhaps\"") && err.contains("true or false"), "{err}");
        assert!(env.get::<f64>("PAPERBOY_HARVEST_ENABLED").unwrap_err().to_string().contains("a number"));
    }
}
