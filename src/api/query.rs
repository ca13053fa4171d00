//! Query strings on routes that take none. A parameter there is a mistake
//! (a typo of the list route's, a client that thinks it pages), so it is
//! refused as 400 `bad_parameter` rather than silently ignored.

use super::error::ApiError;

/// `Ok` when `raw` (the request's query string) names no parameter.
pub fn none_expected(raw: Option<&str>) -> Result<(), ApiError> {
    match raw.and_then(|query| url::form_urlencoded::parse(query.as_bytes()).next()) {
        None => Ok(()),
        Some((name, _)) => Err(ApiError::BadParameter {
            parameter: name.into_owned(),
            message: "unknown parameter; this route takes none".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::none_expected;

    #[test]
    fn any_parameter_is_refused_by_name() {
        assert!(none_expected(None).is_ok());
        assert!(none_expected(Some("")).is_ok());
        let error = none_expected(Some("limit=abc&x=1")).unwrap_err();
        assert_eq!(error.code(), "bad_parameter");
        assert!(error.to_string().contains("limit"), "{error}");
    }
}
