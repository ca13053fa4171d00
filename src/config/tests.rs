//! Resolving settings: precedence, parsing, and errors that name the setting and its source.

use super::*;

/// The error `resolve` gives for these settings, as printed.
fn resolve_error(common: &SettingsArgs, serve: &ServeArgs) -> String {
    Settings::resolve(common, serve).unwrap_err().to_string()
}

/// A configuration file in a fresh directory, and the arguments that name it.
fn config_file(text: &str) -> (tempfile::TempDir, SettingsArgs) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("escalator.toml");
    std::fs::write(&file, text).unwrap();
    let common = SettingsArgs {
        config: Some(file),
        ..SettingsArgs::default()
    };
    (dir, common)
}

#[test]
fn severity_spans_parse_every_severity() {
    let spans = SeveritySpans::parse("critical=1h, moderate=24h,minimal=3d").unwrap();
    assert_eq!(spans.get(Severity::Critical), Duration::from_secs(3600));
    assert_eq!(spans.get(Severity::Minimal), Duration::from_secs(3 * 86400));
}

#[test]
fn severity_spans_refuse_a_missing_severity() {
    let error = SeveritySpans::parse("critical=1h").unwrap_err();
    assert!(error.starts_with("no span for `minimal`"), "{error}");
}

#[test]
fn flags_win_over_the_file_and_the_file_over_defaults() {
    let (_dir, common) = config_file("listen = \"127.0.0.1:9000\"\nauto_close = \"2d\"\n");
    let serve = ServeArgs {
        listen: Some("127.0.0.1:9100".to_owned()),
        ..ServeArgs::default()
    };
    let settings = Settings::resolve(&common, &serve).unwrap();
    assert_eq!(settings.listen.port(), 9100);
    assert_eq!(
        settings.deadlines.auto_close,
        Duration::from_secs(2 * 86400)
    );
    assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
}

#[test]
fn a_bad_value_names_the_setting_and_its_source() {
    let serve = ServeArgs {
        warn_at: Some("1.5".to_owned()),
        ..ServeArgs::default()
    };
    let error = resolve_error(&SettingsArgs::default(), &serve);
    assert!(
        error.contains("warn_at") && error.contains("ESCALATOR_WARN_AT"),
        "{error}"
    );
}

#[test]
fn the_deadline_lease_and_worker_sleep_are_spans_longer_than_zero() {
    let serve = ServeArgs {
        deadline_lease: Some("5s".to_owned()),
        worker_max_sleep: Some("200ms".to_owned()),
        ..ServeArgs::default()
    };
    let settings = Settings::resolve(&SettingsArgs::default(), &serve).unwrap();
    assert_eq!(settings.deadlines.lease, Duration::from_secs(5));
    assert_eq!(settings.deadlines.max_sleep, Duration::from_millis(200));
    let zero = ServeArgs {
        deadline_lease: Some("0s".to_owned()),
        ..ServeArgs::default()
    };
    let error = resolve_error(&SettingsArgs::default(), &zero);
    assert!(
        error.contains("deadline_lease") && error.contains("longer than zero"),
        "{error}"
    );
}

#[test]
fn an_smtp_url_that_does_not_parse_is_refused_without_its_password() {
    for url in [
        "smtp://bob:s3cret@mail.example:99999",
        "smtp://bob:s3cret@[::1:99",
    ] {
        let serve = ServeArgs {
            smtp_url: Some(url.to_owned()),
            ..ServeArgs::default()
        };
        let error = resolve_error(&SettingsArgs::default(), &serve);
        assert!(
            error.contains("smtp_url") && error.contains("is not a URL") && error.contains("***@"),
            "{error}"
        );
        assert!(!error.contains("s3cret"), "{error}");
    }
}

#[test]
fn the_mail_lease_and_send_timeout_come_from_the_environment_and_are_checked() {
    let serve = ServeArgs {
        mail_lease: Some("4s".to_owned()),
        mail_send_timeout: Some("3s".to_owned()),
        ..ServeArgs::default()
    };
    let settings = Settings::resolve(&SettingsArgs::default(), &serve).unwrap();
    assert_eq!(settings.mail.lease, Duration::from_secs(4));
    assert_eq!(settings.mail.send_timeout, Duration::from_secs(3));

    let serve = ServeArgs {
        mail_lease: Some("10s".to_owned()),
        ..ServeArgs::default()
    };
    let error = resolve_error(&SettingsArgs::default(), &serve);
    assert!(
        error.contains("mail.send_timeout") && error.contains("ESCALATOR_MAIL_LEASE"),
        "{error}"
    );
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    let (_dir, common) = config_file("lisen = \"127.0.0.1:9000\"\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(error.contains("lisen"), "{error}");
}

#[test]
fn mail_spans_come_from_the_file_and_a_flag_wins_over_it() {
    let (_dir, common) = config_file(
        "[mail]\nfirst_retry = \"2s\"\nmax_retry_interval = \"1m\"\nlease = \"20s\"\nsend_timeout = \"10s\"\n",
    );
    let settings = Settings::resolve(&common, &ServeArgs::default()).unwrap();
    assert_eq!(settings.mail.first_retry, Duration::from_secs(2));
    assert_eq!(settings.mail.max_retry_interval, Duration::from_secs(60));
    assert_eq!(settings.mail.lease, Duration::from_secs(20));
    assert_eq!(settings.mail.send_timeout, Duration::from_secs(10));

    let serve = ServeArgs {
        mail_lease: Some("40s".to_owned()),
        ..ServeArgs::default()
    };
    let settings = Settings::resolve(&common, &serve).unwrap();
    assert_eq!(settings.mail.lease, Duration::from_secs(40));

    let (_dir, common) = config_file("[mail]\nfirst_retry = \"soon\"\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.contains("mail.first_retry") && error.contains("escalator.toml"),
        "{error}"
    );
}

#[test]
fn a_database_url_must_name_a_file_or_a_postgres_database_that_parses() {
    for url in [
        "sqlite:",
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://x.db?mode=memory",
    ] {
        let common = SettingsArgs {
            database: Some(url.to_owned()),
            ..SettingsArgs::default()
        };
        let error = resolve_error(&common, &ServeArgs::default());
        assert!(
            error.contains("setting `database`")
                && error.contains("ESCALATOR_DATABASE_URL")
                && error.contains("names no file"),
            "{url}: {error}"
        );
    }
    let common = SettingsArgs {
        database: Some("postgres://user:secret@127.0.0.1:port/x".to_owned()),
        ..SettingsArgs::default()
    };
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.contains("setting `database`") && error.contains("not a PostgreSQL URL"),
        "{error}"
    );
    assert!(
        !error.contains("secret"),
        "the password is not shown: {error}"
    );
    let (_dir, common) = config_file("database = \"sqlite://x.db?mode=bogus\"\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.contains("setting `database`") && error.contains("mode"),
        "{error}"
    );
}

#[test]
fn a_bad_value_in_the_file_is_located_by_line_and_column() {
    let (_dir, common) = config_file("# deployment\n\n  listen = \"nonsense\"\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.contains("setting `listen`") && error.contains("escalator.toml:3:12)"),
        "{error}"
    );
    let (_dir, common) = config_file("auto_close = \"2d\"\nwarn_at = 1.5\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(error.contains("escalator.toml:2:11)"), "{error}");
    let (_dir, common) = config_file("[mail]\nlease = \"10s\"\n");
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.contains("mail.send_timeout") && error.contains("escalator.toml:2:9)"),
        "{error}"
    );
}

#[test]
fn mail_counts_of_zero_are_refused_not_raised_to_one() {
    for (text, setting) in [
        ("[mail]\nmax_attempts = 0\n", "mail.max_attempts"),
        ("[mail]\nconnections = 0\n", "mail.connections"),
    ] {
        let (_dir, common) = config_file(text);
        let error = resolve_error(&common, &ServeArgs::default());
        assert!(
            error.contains(setting)
                && error.contains("escalator.toml:2:")
                && error.contains("at least 1"),
            "{error}"
        );
    }
    let (_dir, common) = config_file(
        "[mail]\nmax_attempts = 3\nconnections = 2\ntls_ca_file = \"/etc/ssl/relay-ca.pem\"\n",
    );
    let settings = Settings::resolve(&common, &ServeArgs::default()).unwrap();
    assert_eq!(settings.mail.max_attempts, 3);
    assert_eq!(settings.mail.connections, 2);
    assert_eq!(
        settings.mail.tls_ca_file.as_deref(),
        Some(std::path::Path::new("/etc/ssl/relay-ca.pem"))
    );
}

#[test]
fn a_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("escalator.toml");
    std::fs::write(&file, b"auto_close = \"2d\"\nlisten = \"\xff\"\n").unwrap();
    let common = SettingsArgs {
        config: Some(file),
        ..SettingsArgs::default()
    };
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(
        error.ends_with("escalator.toml:2:11: the file is not UTF-8 (byte 0xff)"),
        "{error}"
    );
}

#[test]
fn commands_that_do_not_serve_read_only_the_rules_and_the_database() {
    let (_dir, common) = config_file(
        "rules = \"policy\"\ndatabase = \"sqlite://cases.db\"\nsmtp_url = \"smtp://\"\nlisten = \"nonsense\"\n[mail]\nfirst_retry = \"soon\"\n",
    );
    let settings = Settings::resolve_offline(&common).unwrap();
    assert_eq!(settings.rules_dir, PathBuf::from("policy"));
    assert_eq!(settings.database_url, "sqlite://cases.db");
    // `serve` reads the same file and refuses its first bad serve-only value.
    let error = resolve_error(&common, &ServeArgs::default());
    assert!(error.contains("setting `listen`"), "{error}");

    // What they do read is still checked, and so is the file itself.
    let (_dir, common) = config_file("database = \"mysql://db\"\n");
    let error = Settings::resolve_offline(&common).unwrap_err().to_string();
    assert!(error.contains("setting `database`"), "{error}");
    let (_dir, common) = config_file("lisen = \"127.0.0.1:9000\"\n");
    let error = Settings::resolve_offline(&common).unwrap_err().to_string();
    assert!(error.contains("lisen"), "{error}");
}
