//! Secrets kept out of messages: a URL's password (an SMTP relay's, a
//! PostgreSQL server's) is shown as `***` wherever the URL is printed, in
//! errors and logs alike, even when the text is not a valid URL.

/// Query parameters that carry a password (PostgreSQL takes both).
const SECRET_PARAMETERS: [&str; 2] = ["password", "sslpassword"];

/// `url` with its password replaced by `***`, whether written before the
/// `@` or as a `password=` parameter. A text that does not parse as a URL
/// with a server may still hold one before an `@`: all of that part is
/// replaced.
pub fn url(url: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.has_host() {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
            if pairs
                .iter()
                .any(|(key, _)| SECRET_PARAMETERS.contains(&key.as_str()))
            {
                parsed
                    .query_pairs_mut()
                    .clear()
                    .extend_pairs(pairs.iter().map(|(key, value)| {
                        let shown = if SECRET_PARAMETERS.contains(&key.as_str()) {
                            "***"
                        } else {
                            value.as_str()
                        };
                        (key.as_str(), shown)
                    }));
            }
            return parsed.to_string();
        }
    }
    match (url.rsplit_once('@'), url.split_once("://")) {
        (Some((_, host)), Some((scheme, _))) => format!("{scheme}://***@{host}"),
        (Some((_, host)), None) => format!("***@{host}"),
        (None, _) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn a_password_never_appears() {
        assert_eq!(
            url("smtp://user:secret@mail.example:587"),
            "smtp://user:***@mail.example:587"
        );
        assert_eq!(url("smtp://user:secret@:99"), "smtp://***@:99");
        assert_eq!(
            url("smtp://bob:s3cret@mail.example:99999"),
            "smtp://***@mail.example:99999"
        );
        assert_eq!(url("user:secret@host"), "***@host");
        assert_eq!(url("smtp://"), "smtp://");
        assert_eq!(
            url("postgres://app:pw@db.example/escalator"),
            "postgres://app:***@db.example/escalator"
        );
        assert_eq!(
            url("postgres://app@db.example/escalator?sslmode=require&password=s3cret"),
            "postgres://app@db.example/escalator?sslmode=require&password=***"
        );
    }
}
