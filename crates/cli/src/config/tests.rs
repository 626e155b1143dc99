//! The merge's precedence for a key of every section, its messages, and the
//! key table against the file format, the help text and docs/CONFIGURATION.md.

use std::path::PathBuf;
use std::time::Duration;

use paperboy_arxiv::MetadataFormat;
use paperboy_mail::Security;

use super::*;

fn file(text: &str) -> ConfigFile {
    toml::from_str(text).unwrap()
}

fn resolve(flags: Flags, env: &[(&str, &str)], text: &str) -> Result<Settings> {
    Settings::resolve(flags, &Env::from_pairs(env), file(text))
}

/// A key's value with only the default, then with the file, then the
/// environment over the file, then the flag over both.
fn layers<T>(flag: impl Fn(&mut Flags), env: (&str, &str), file_text: &str, get: impl Fn(&Settings) -> T) -> [T; 4] {
    let mut flags = Flags::default();
    flag(&mut flags);
    [
        get(&resolve(Flags::default(), &[], "").unwrap()),
        get(&resolve(Flags::default(), &[], file_text).unwrap()),
        get(&resolve(Flags::default(), &[env], file_text).unwrap()),
        get(&resolve(flags, &[env], file_text).unwrap()),
    ]
}

#[test]
fn a_flag_beats_the_environment_beats_the_file_beats_the_default_in_every_section() {
    let data = layers(
        |f| f.data_dir = Some("/flag".into()),
        ("PAPERBOY_DATA_DIR", "/env"),
        "data_dir = \"/file\"",
        |s| s.data_dir.clone(),
    );
    assert_eq!(data, [database::DEFAULT_DATA_DIR, "/file", "/env", "/flag"].map(PathBuf::from));

    let addr = layers(
        |f| f.addr = Some("127.0.0.1:4".into()),
        ("PAPERBOY_ADDR", "127.0.0.1:3"),
        "[server]\naddr = \"127.0.0.1:2\"",
        |s| s.server.addr.clone(),
    );
    assert_eq!(addr, [server::DEFAULT_ADDR, "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"]);

    let model = layers(
        |f| f.model_dir = Some("/flag".into()),
        ("PAPERBOY_MODEL_DIR", "/env"),
        "[search]\nmodel_dir = \"/file\"",
        |s| s.search.model_dir.clone(),
    );
    assert_eq!(model, [None, Some("/file".into()), Some("/env".into()), Some("/flag".into())]);

    use paperboy_search::Evidence;
    let evidence = layers(
        |f| f.evidence = Some(Evidence::Off),
        ("PAPERBOY_EVIDENCE", "passages"),
        "[search]\nevidence = \"sentences\"",
        |s| s.search.evidence,
    );
    assert_eq!(evidence, [Evidence::Passages, Evidence::Sentences, Evidence::Passages, Evidence::Off]);

    let arxiv = layers(
        |f| f.arxiv_base_url = Some("http://127.0.0.1:4/q".into()),
        ("PAPERBOY_ARXIV_BASE_URL", "http://127.0.0.1:3/q"),
        "[arxiv]\nbase_url = \"http://127.0.0.1:2/q\"",
        |s| s.arxiv.base_url.clone(),
    );
    assert_eq!(
        arxiv,
        [paperboy_arxiv::DEFAULT_BASE_URL, "http://127.0.0.1:2/q", "http://127.0.0.1:3/q", "http://127.0.0.1:4/q"]
    );

    let set = layers(
        |f| f.harvest.set = Some("math".into()),
        ("PAPERBOY_HARVEST_SET", "physics"),
        "[harvest]\nset = \"q-bio\"",
        |s| s.harvest.set.clone(),
    );
    assert_eq!(
        set,
        [Some(harvest::DEFAULT_SET), Some("q-bio"), Some("physics"), Some("math")].map(|s| s.map(String::from))
    );

    // Keys without a flag: the environment beats the file beats the default.
    let no_flag = |_: &mut Flags| {};
    let lease = layers(no_flag, ("PAPERBOY_JOB_LEASE_SECONDS", "5"), "job_lease_seconds = 7", |s| s.lease);
    assert_eq!(
        lease,
        [
            paperboy_services::lease::DEFAULT_LEASE,
            Duration::from_secs(7),
            Duration::from_secs(5),
            Duration::from_secs(5)
        ]
    );
    let window = layers(no_flag, ("PAPERBOY_SUBMIT_WINDOW_DAYS", "30"), "[community]\nsubmit_window_days = 20", |s| {
        s.community.submit_window_days
    });
    assert_eq!(window, [community::DEFAULT_SUBMIT_WINDOW_DAYS, 20, 30, 30]);
    let gravity =
        layers(no_flag, ("PAPERBOY_RANKING_GRAVITY", "1.2"), "[ranking]\ngravity = 1.5", |s| s.ranking.gravity);
    assert_eq!(gravity, [RankingSettings::DEFAULT_GRAVITY, 1.5, 1.2, 1.2]);
    let from = layers(no_flag, ("PAPERBOY_MAIL_FROM", "env@example.org"), "[mail]\nfrom = \"file@example.org\"", |s| {
        s.mail.from.clone()
    });
    assert_eq!(from, [mail::DEFAULT_FROM, "file@example.org", "env@example.org", "env@example.org"]);
}

#[test]
fn the_log_filter_and_the_config_path_come_from_the_flag_or_the_environment() {
    let env = Env::from_pairs(&[("PAPERBOY_LOG", "debug"), ("PAPERBOY_CONFIG", "/etc/paperboy.toml")]);
    let none = Env::default();
    assert_eq!(log_filter(None, &none).unwrap(), DEFAULT_LOG);
    assert_eq!(log_filter(None, &env).unwrap(), "debug");
    assert_eq!(log_filter(Some("warn".into()), &env).unwrap(), "warn");
    assert_eq!(config_path(None, &none).unwrap(), None);
    assert_eq!(config_path(None, &env).unwrap(), Some(PathBuf::from("/etc/paperboy.toml")));
    assert_eq!(config_path(Some("/x.toml".into()), &env).unwrap(), Some(PathBuf::from("/x.toml")));
}

#[test]
fn a_blank_variable_counts_as_unset() {
    let s = resolve(
        Flags::default(),
        &[("PAPERBOY_ADDR", ""), ("PAPERBOY_DATABASE_URL", " "), ("PAPERBOY_JOB_LEASE_SECONDS", "")],
        "job_lease_seconds = 9\n[server]\naddr = \"127.0.0.1:2\"",
    )
    .unwrap();
    assert_eq!((s.server.addr.as_str(), s.database_url, s.lease), ("127.0.0.1:2", None, Duration::from_secs(9)));
    // Except where empty has a meaning of its own: the whole archive, all categories.
    let s =
        resolve(Flags::default(), &[("PAPERBOY_HARVEST_SET", ""), ("PAPERBOY_HARVEST_CATEGORIES", "")], "").unwrap();
    assert_eq!((s.harvest.set, s.harvest.categories.len()), (None, 0));
}

#[test]
fn a_bad_variable_is_refused_with_its_name_value_and_what_is_expected() {
    let err = |env: &[(&str, &str)]| format!("{:#}", resolve(Flags::default(), env, "").unwrap_err());
    assert_eq!(
        err(&[("PAPERBOY_JOB_LEASE_SECONDS", "soon")]),
        "PAPERBOY_JOB_LEASE_SECONDS=\"soon\" is not valid: expected a whole number"
    );
    assert_eq!(
        err(&[("PAPERBOY_JOB_LEASE_SECONDS", "0")]),
        "PAPERBOY_JOB_LEASE_SECONDS=\"0\": expected a whole number of seconds, at least 1"
    );
    assert_eq!(
        err(&[("PAPERBOY_HARVEST_PACING", "9000")]),
        "PAPERBOY_HARVEST_PACING=\"9000\": expected seconds between 0 and 3600 (arXiv asks for 3)"
    );
    let proxies = err(&[("PAPERBOY_TRUSTED_PROXIES", "127.0.0.1, not-an-address")]);
    assert!(proxies.starts_with("PAPERBOY_TRUSTED_PROXIES=\"127.0.0.1, not-an-address\""), "{proxies}");
    assert_eq!(
        err(&[("PAPERBOY_EVIDENCE", "windows")]),
        "PAPERBOY_EVIDENCE=\"windows\" is not valid: expected off, passages or sentences"
    );
    let in_file = format!("{:#}", resolve(Flags::default(), &[], "[search]\nevidence = \"all\"").unwrap_err());
    assert!(in_file.contains("evidence") && in_file.contains("off, passages or sentences"), "{in_file}");
    let format = err(&[("PAPERBOY_HARVEST_FORMAT", "oai_dc")]);
    assert_eq!(format, "PAPERBOY_HARVEST_FORMAT=\"oai_dc\" is not valid: expected arXivRaw or arXiv");
    // The same check names the flag or the file key when the value came from there.
    let flags = Flags { harvest: HarvestFlags { pacing: Some(-1.0), ..HarvestFlags::default() }, ..Flags::default() };
    assert!(format!("{:#}", resolve(flags, &[], "").unwrap_err()).starts_with("--pacing -1.0: expected seconds"));
    let in_file = format!("{:#}", resolve(Flags::default(), &[], "job_lease_seconds = 0").unwrap_err());
    assert_eq!(in_file, "job_lease_seconds = 0 in the config file: expected a whole number of seconds, at least 1");
}

#[test]
fn flags_win_over_file_and_file_over_defaults() {
    let text = "data_dir = \"/srv/pb\"\n[server]\naddr = \"0.0.0.0:9000\"\npage_size = 500\n";
    let s = resolve(Flags { data_dir: Some("/tmp/flag".into()), ..Flags::default() }, &[], text).unwrap();
    assert_eq!(s.data_dir, PathBuf::from("/tmp/flag"));
    assert_eq!(s.server.addr, "0.0.0.0:9000");
    assert_eq!(s.server.page_size, 100, "page size is clamped");
    let d = resolve(Flags::default(), &[], "").unwrap();
    assert_eq!(d.data_dir, PathBuf::from(database::DEFAULT_DATA_DIR));
    assert_eq!(d.server.addr, server::DEFAULT_ADDR);
    assert_eq!(d.community.submit_window_days, community::DEFAULT_SUBMIT_WINDOW_DAYS);
    let s = resolve(
        Flags::default(),
        &[],
        "[arxiv]\nbase_url = \"http://127.0.0.1:9/q\"\n[community]\nsubmit_window_days = 30\n",
    )
    .unwrap();
    assert_eq!(s.arxiv.base_url, "http://127.0.0.1:9/q");
    assert_eq!(s.community.submit_window_days, 30);
}

#[test]
fn unknown_keys_are_refused() {
    assert!(toml::from_str::<ConfigFile>("datadir = 1").is_err());
}

#[test]
fn ranking_section_is_read_and_checked() {
    let s = resolve(Flags::default(), &[], "[ranking]\ngravity = 1.5\nbase_hours = 3\n").unwrap();
    assert_eq!((s.ranking.gravity, s.ranking.base_hours), (1.5, 3.0));
    let d = resolve(Flags::default(), &[], "").unwrap();
    assert_eq!(d.ranking, RankingSettings::default());
    let err = format!("{:#}", resolve(Flags::default(), &[], "[ranking]\ngravity = -1\n").unwrap_err());
    assert!(err.contains("[ranking]") && err.contains("gravity"), "{err}");
}

fn harvest_settings(text: &str, env: &[(&str, &str)]) -> Result<HarvestSettings> {
    HarvestSettings::resolve(HarvestFlags::default(), &Env::from_pairs(env), toml::from_str(text).unwrap())
}

#[test]
fn harvest_environment_wins_over_the_file_and_the_file_over_defaults() {
    let d = harvest_settings("", &[]).unwrap();
    assert!(!d.enabled, "off unless enabled");
    assert_eq!(d.base_url, paperboy_arxiv::DEFAULT_OAI_BASE_URL);
    assert_eq!(d.categories, paperboy_services::harvest::DEFAULT_CATEGORIES);
    assert_eq!((d.set.as_deref(), d.format), (Some("cs"), MetadataFormat::ArxivRaw));
    assert_eq!(d.pacing, Duration::from_secs(3));
    let text = "enabled = true\nbase_url = \"http://127.0.0.1:9/oai\"\ncategories = [\"cs.LG\"]\nset = \"\"\n\
                format = \"arXiv\"\npacing_seconds = 0.5\nat = \"06:15\"\ntime_zone = \"Europe/Berlin\"\n";
    let env = [("PAPERBOY_HARVEST_CATEGORIES", "cs.CV, stat.ML"), ("PAPERBOY_HARVEST_AT", "07:00")];
    let s = harvest_settings(text, &env).unwrap();
    assert!(s.enabled);
    assert_eq!(s.base_url, "http://127.0.0.1:9/oai");
    assert_eq!(s.categories, ["cs.CV", "stat.ML"]);
    assert_eq!((s.set, s.format), (None, MetadataFormat::Arxiv));
    assert_eq!(s.pacing, Duration::from_millis(500));
    assert_eq!(s.schedule.at.format("%H:%M").to_string(), "07:00");
    assert_eq!(s.schedule.tz.name(), "Europe/Berlin");
    // The command's flags override the keys for one run.
    let flags = HarvestFlags {
        categories: Some(String::new()),
        set: Some("math".into()),
        format: Some(MetadataFormat::ArxivRaw),
        base_url: Some("http://127.0.0.1:8/oai".into()),
        pacing: Some(0.0),
    };
    let s = HarvestSettings::resolve(flags, &Env::from_pairs(&env), toml::from_str(text).unwrap()).unwrap();
    assert_eq!((s.categories.len(), s.set.as_deref(), s.format), (0, Some("math"), MetadataFormat::ArxivRaw));
    assert_eq!((s.base_url.as_str(), s.pacing), ("http://127.0.0.1:8/oai", Duration::ZERO));
}

#[test]
fn bad_harvest_values_are_refused_with_the_key() {
    let bad = |text: &str| format!("{:#}", harvest_settings(text, &[]).unwrap_err());
    assert!(bad("format = \"oai_dc\"").contains("arXivRaw"));
    assert!(bad("pacing_seconds = -1").contains("pacing_seconds"));
    assert!(bad("at = \"25:00\"").contains("[harvest]"));
    assert!(bad("time_zone = \"Mars/Olympus\"").contains("IANA"));
    let err = format!("{:#}", harvest_settings("", &[("PAPERBOY_HARVEST_ENABLED", "perhaps")]).unwrap_err());
    assert!(err.contains("true") && err.contains("PAPERBOY_HARVEST_ENABLED"), "{err}");
    assert!(toml::from_str::<HarvestSection>("cron = \"x\"").is_err());
}

fn mail_settings(text: &str, env: &[(&str, &str)]) -> Result<MailSettings> {
    MailSettings::resolve(&Env::from_pairs(env), toml::from_str(text).unwrap())
}

#[test]
fn mail_env_wins_over_the_file_and_bad_values_are_refused() {
    let text = "smtp_host = \"mail.example.org\"\nsmtp_security = \"tls\"\nfrom = \"d@example.org\"\n";
    let smtp = mail_settings(text, &[]).unwrap().smtp.unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("mail.example.org", 465, Security::Tls));
    assert_eq!(mail_settings(text, &[("PAPERBOY_SMTP_PORT", "2525")]).unwrap().smtp.unwrap().port, 2525);
    assert!(mail_settings("", &[]).unwrap().smtp.is_none(), "off by default");
    assert!(mail_settings(text, &[("PAPERBOY_MAIL_TIME_ZONE", "Mars/Olympus")]).is_err());
    assert!(mail_settings(text, &[("PAPERBOY_MAIL_FROM", "x\r\nBcc: y")]).is_err());
    let err = format!("{:#}", mail_settings(text, &[("PAPERBOY_MAIL_RATE", "0")]).unwrap_err());
    assert_eq!(err, "PAPERBOY_MAIL_RATE=\"0\": expected a positive number such as 10");
}

#[test]
fn the_smtp_ca_file_comes_from_the_file_or_the_environment() {
    let text =
        "smtp_host = \"relay.internal\"\nsmtp_ca_file = \"/etc/paperboy/relay-ca.pem\"\nfrom = \"d@example.org\"\n";
    let smtp = mail_settings(text, &[]).unwrap().smtp.unwrap();
    assert_eq!(smtp.ca_file, Some(PathBuf::from("/etc/paperboy/relay-ca.pem")));
    let smtp = mail_settings(text, &[("PAPERBOY_SMTP_CA_FILE", "/run/secrets/ca.pem")]).unwrap().smtp.unwrap();
    assert_eq!(smtp.ca_file, Some(PathBuf::from("/run/secrets/ca.pem")));
    let none = mail_settings("smtp_host = \"relay.internal\"\n", &[]).unwrap().smtp.unwrap();
    assert_eq!(none.ca_file, None, "built-in roots only");
}

/// The file keys of the table, by section.
fn file_keys(section: &str) -> Vec<&'static str> {
    all_keys().filter(|k| k.section == section).filter_map(|k| k.name).collect()
}

#[test]
fn every_file_key_has_its_own_variable_and_appears_in_the_help() {
    let help = help_text();
    let mut vars = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for key in all_keys() {
        assert!(key.env.starts_with("PAPERBOY_"), "{key:?}");
        assert!(vars.insert(key.env), "{} is used twice", key.env);
        assert!(help.contains(key.env), "--help names {}", key.env);
        if let Some(name) = key.name {
            assert!(names.insert(key.file_key()), "{} is in the table twice", key.file_key());
            assert!(help.contains(&format!("  {name} ")), "--help lists {}", key.file_key());
        }
        for flag in key.flags {
            assert!(help.contains(flag), "--help names {flag}");
        }
    }
    for section in ["server", "search", "arxiv", "community", "ranking", "harvest", "mail"] {
        assert!(help.contains(&format!("[{section}]")), "--help shows [{section}]");
    }
}

#[test]
fn the_table_lists_exactly_the_keys_the_file_accepts() {
    // serde names the accepted fields when it refuses an unknown one.
    for section in [
        "",
        "server",
        "search",
        "arxiv",
        "community",
        "ranking",
        "signals.github",
        "signals.huggingface",
        "harvest",
        "mail",
    ] {
        let text =
            if section.is_empty() { "zz_unknown = 1".to_string() } else { format!("[{section}]\nzz_unknown = 1") };
        let err = toml::from_str::<ConfigFile>(&text).unwrap_err().to_string();
        let accepted: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
        let sections = ["server", "search", "arxiv", "community", "ranking", "signals", "harvest", "mail"];
        let accepted: Vec<&str> = accepted.into_iter().filter(|k| !sections.contains(k)).collect();
        assert!(!accepted.is_empty(), "{err}");
        let mut table = file_keys(section);
        let mut accepted = accepted;
        table.sort();
        accepted.sort();
        assert_eq!(table, accepted, "[{section}]: {err}");
    }
}

#[test]
fn the_defaults_written_out_give_the_same_settings_as_no_file() {
    let mut text = String::new();
    for (section, keys) in SECTIONS {
        if !section.is_empty() {
            text.push_str(&format!("[{section}]\n"));
        }
        for key in *keys {
            if let (Some(name), default) = (key.name, key.default)
                && !matches!(default, DefaultValue::Unset(_))
            {
                text.push_str(&format!("{name} = {default}\n"));
            }
        }
    }
    let written = resolve(Flags::default(), &[], &text).unwrap();
    let none = resolve(Flags::default(), &[], "").unwrap();
    assert_eq!(format!("{written:?}"), format!("{none:?}"), "{text}");
}

/// A key's row in docs/CONFIGURATION.md.
fn docs_row(key: &Key) -> String {
    let code = |s: &str| format!("`{s}`");
    let section = if key.section.is_empty() { "(top level)".to_string() } else { code(&format!("[{}]", key.section)) };
    let name = key.name.map(code).unwrap_or_else(|| "(not in the file)".to_string());
    let flags: Vec<String> = key.flags.iter().map(|f| code(f)).collect();
    let default = match key.default {
        DefaultValue::Unset(meaning) => format!("unset: {meaning}"),
        other => code(&other.to_string()),
    };
    format!("| {section} | {name} | `{}` | {} | {default} | {} |", key.env, flags.join(", "), key.help)
}

#[test]
fn docs_configuration_md_lists_every_key_as_the_table_has_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CONFIGURATION.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let rows: Vec<String> = all_keys().map(docs_row).collect();
    let missing: Vec<&String> = rows.iter().filter(|r| !docs.contains(r.as_str())).collect();
    assert!(
        missing.is_empty(),
        "docs/CONFIGURATION.md lacks these rows (the whole table follows):\n{missing:#?}\n\n{}",
        rows.join("\n")
    );
    for key in all_keys() {
        assert!(docs.contains(key.env), "docs/CONFIGURATION.md names {}", key.env);
    }
}

#[test]
fn defaults_described_in_words_match_the_code() {
    let model = search::MODEL_DIR.default.to_string();
    let name = paperboy_services::model::MODEL_NAME;
    assert!(
        model.contains(&format!("DATA_DIR/models/{name}")) && model.contains(&format!("./models/{name}")),
        "{model}"
    );
    let port = mail::SMTP_PORT.default.to_string();
    for (security, number) in [("plain", 25), ("starttls", 587), ("tls", 465)] {
        assert_eq!(Security::parse(security).unwrap().default_port(), number);
        assert!(port.contains(&format!("{number} {security}")), "{port}");
    }
    assert_eq!(Security::parse(mail::DEFAULT_SMTP_SECURITY).unwrap(), Security::default());
}

#[test]
fn signals_and_their_weights_resolve_from_the_file_and_the_environment() {
    let file = "[signals.github]\nenabled = true\napi_url = \"http://127.0.0.1:8/\"\n\
                [ranking]\nhf_upvote = 2\nmax_age_days = 30";
    let env = [("PAPERBOY_GITHUB_TOKEN", "t0k"), ("PAPERBOY_HF_API_URL", "http://127.0.0.1:9/")];
    let s = resolve(Flags::default(), &env, file).unwrap();
    assert!(s.signals.github_enabled && !s.signals.huggingface_enabled);
    assert_eq!(s.signals.github.base_url, "http://127.0.0.1:8/");
    assert_eq!(s.signals.github.token.as_deref(), Some("t0k"));
    assert_eq!(s.signals.github.interval, paperboy_signals::github::TOKEN_INTERVAL);
    assert_eq!(s.signals.huggingface.base_url, "http://127.0.0.1:9/");
    assert_eq!((s.weights.hf_upvote, s.weights.local_vote, s.code_trending_days), (2.0, 1.0, 30));
    let none = resolve(Flags::default(), &[], "").unwrap();
    assert_eq!(none.signals.github.interval, paperboy_signals::github::ANONYMOUS_INTERVAL);
    let bad = resolve(Flags::default(), &[("PAPERBOY_RANKING_WEEKLY_STAR", "-1")], "").unwrap_err();
    assert!(format!("{bad:#}").contains("PAPERBOY_RANKING_WEEKLY_STAR"), "{bad:#}");
}
