//! "Did you mean …?": the closest known name to a near miss, so that a typo
//! in a rule's field, let, severity or declared value, or in a case's field
//! name, comes with its fix.

/// The candidate closest to `word`, when one is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let score = strsim::jaro_winkler(word, candidate);
        let close =
            score >= 0.8 || strsim::levenshtein(word, candidate) <= 2.min(word.chars().count() / 2);
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name.to_owned())
}

/// `; did you mean `NAME`?` after a message, or nothing without a name.
pub fn did_you_mean(closest: Option<&str>) -> String {
    closest
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn a_near_miss_gets_the_closest_name() {
        assert_eq!(
            suggest("severty", ["product", "severity"]).as_deref(),
            Some("severity")
        );
        assert_eq!(
            suggest(
                "subscripton",
                ["billing", "subscription_change", "service_health"]
            )
            .as_deref(),
            Some("subscription_change")
        );
    }

    #[test]
    fn an_unrelated_word_gets_no_suggestion() {
        assert_eq!(suggest("zebra", ["product", "severity"]), None);
    }
}
