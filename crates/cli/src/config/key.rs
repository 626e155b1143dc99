//! One configuration key: its place in `paperboy.toml`, its environment
//! variable, its flags, its default and what it means ([`Key`]), and the
//! precedence rule that picks its value ([`pick`]: flag, then environment,
//! then file). Each section module declares its keys as constants; the
//! help text and docs/CONFIGURATION.md are rendered from them.

use std::fmt;

use anyhow::{Result, bail};

use super::env::{Env, FromEnv};

/// A configuration key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// `[section]` in the file; `""` for a top-level key.
    pub section: &'static str,
    /// The key in the file; `None` for settings the file cannot hold (the
    /// config file's own path, the log filter).
    pub name: Option<&'static str>,
    /// The `PAPERBOY_*` environment variable.
    pub env: &'static str,
    /// Command-line flags that set it, with their subcommand: `serve --addr`.
    pub flags: &'static [&'static str],
    pub default: DefaultValue,
    /// What it means, one line.
    pub help: &'static str,
    /// `""` in the environment is a value (e.g. "the whole archive"), not "unset".
    pub empty_is_a_value: bool,
}

impl Key {
    /// A key in `[section]` (or top-level for `""`), set by `env`.
    pub const fn new(
        section: &'static str,
        name: &'static str,
        env: &'static str,
        default: DefaultValue,
        help: &'static str,
    ) -> Key {
        Key { section, name: Some(name), env, flags: &[], default, help, empty_is_a_value: false }
    }

    /// A setting of the command line and the environment only.
    pub const fn outside_the_file(env: &'static str, default: DefaultValue, help: &'static str) -> Key {
        Key { section: "", name: None, env, flags: &[], default, help, empty_is_a_value: false }
    }

    /// The same key, also set by these flags.
    pub const fn flags(self, flags: &'static [&'static str]) -> Key {
        Key { flags, ..self }
    }

    /// The same key, where an empty variable is the empty value.
    pub const fn empty_is_a_value(self) -> Key {
        Key { empty_is_a_value: true, ..self }
    }

    /// How the file spells it: `data_dir`, `[server] addr`.
    pub fn file_key(&self) -> String {
        match (self.section, self.name) {
            (_, None) => String::new(),
            ("", Some(name)) => name.to_string(),
            (section, Some(name)) => format!("[{section}] {name}"),
        }
    }

    /// The flag's own name (`--addr`), for messages about a flag's value.
    fn flag_name(&self) -> &'static str {
        self.flags.first().and_then(|f| f.split_whitespace().last()).unwrap_or("the flag")
    }

    /// The help line of a flag: the meaning, the variable and the default.
    pub fn flag_help(&self) -> String {
        let default = match self.default {
            DefaultValue::Unset(meaning) => meaning.to_string(),
            value => value.to_string(),
        };
        format!("{} [env: {}] [default: {default}]", capitalised(self.help), self.env)
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A key's default, defined once (by a constant) and shown from here.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Text(&'static str),
    Whole(u64),
    Number(f64),
    Bool(bool),
    List(&'static [&'static str]),
    /// No value; what happens then.
    Unset(&'static str),
}

/// The default as it would be written in `paperboy.toml` (or what an unset key means).
impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Text(t) => write!(f, "{t:?}"),
            DefaultValue::Whole(n) => write!(f, "{n}"),
            DefaultValue::Number(x) => write!(f, "{x}"),
            DefaultValue::Bool(b) => write!(f, "{b}"),
            DefaultValue::List(items) => {
                let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
                write!(f, "[{}]", quoted.join(", "))
            }
            DefaultValue::Unset(meaning) => write!(f, "unset: {meaning}"),
        }
    }
}

/// Where a value came from, for messages about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Flag,
    /// The variable's text as given.
    Env(String),
    File,
    Default,
}

/// A key's value and where it came from.
#[derive(Debug, Clone)]
pub struct Picked<T> {
    pub key: &'static Key,
    pub value: T,
    pub source: Source,
}

impl<T: fmt::Debug> Picked<T> {
    /// What was given, naming the flag, variable or file key: `--pacing 5000.0`,
    /// `PAPERBOY_HARVEST_PACING="5000"`, `[harvest] pacing_seconds = 5000.0`.
    pub fn given(&self) -> String {
        match &self.source {
            Source::Flag => format!("{} {:?}", self.key.flag_name(), self.value),
            Source::Env(text) => format!("{}={text:?}", self.key.env),
            Source::File => format!("{} = {:?} in the config file", self.key.file_key(), self.value),
            Source::Default => format!("the default {} = {:?}", self.key.file_key(), self.value),
        }
    }

    /// The value if `ok` holds, else an error naming what was given and what is `expected`.
    pub fn check(self, ok: impl FnOnce(&T) -> bool, expected: &str) -> Result<T> {
        if ok(&self.value) {
            return Ok(self.value);
        }
        bail!("{}: expected {expected}", self.given())
    }

    /// The value converted by `f`, or an error naming what was given and why it failed.
    pub fn convert<U, E: fmt::Display>(self, f: impl FnOnce(&T) -> Result<U, E>) -> Result<U> {
        match f(&self.value) {
            Ok(u) => Ok(u),
            Err(e) => bail!("{}: {e}", self.given()),
        }
    }
}

/// `key`'s value: the flag's, else the environment's, else the file's, else
/// `None`.
pub fn pick_opt<T: FromEnv>(
    key: &'static Key,
    flag: Option<T>,
    env: &Env,
    file: Option<T>,
) -> Result<Option<Picked<T>>> {
    if let Some(value) = flag {
        return Ok(Some(Picked { key, value, source: Source::Flag }));
    }
    let var = if key.empty_is_a_value { env.get_keeping_empty(key.env)? } else { env.get(key.env)? };
    if let Some(var) = var {
        return Ok(Some(Picked { key, value: var.value, source: Source::Env(var.text) }));
    }
    Ok(file.map(|value| Picked { key, value, source: Source::File }))
}

/// `key`'s value: the flag's, else the environment's, else the file's, else `default`.
pub fn pick<T: FromEnv>(
    key: &'static Key,
    flag: Option<T>,
    env: &Env,
    file: Option<T>,
    default: T,
) -> Result<Picked<T>> {
    Ok(pick_opt(key, flag, env, file)?.unwrap_or(Picked { key, value: default, source: Source::Default }))
}

/// A file value given as text (`format = "arXiv"`), read like the variable would be.
pub fn parse_file<T: FromEnv>(key: &Key, text: Option<String>) -> Result<Option<T>> {
    let Some(text) = text else { return Ok(None) };
    match T::from_env(&text) {
        Some(v) => Ok(Some(v)),
        None => bail!("{} = {text:?} in the config file is not valid: expected {}", key.file_key(), T::EXPECTED),
    }
}
