//! Differential model of topic names and patterns (NATS-style: `*` is exactly one token, `>`
//! is one or more trailing tokens), shared by `tests/differential.rs` and the `pattern` fuzz
//! target.
//!
//! [`run`] reads the input as text (lossily): the first line is a pattern, the other lines are
//! names. For each it compares `Pattern::parse`, `validate_topic` and `Pattern::matches` with
//! a naive reference written straight from the rules, checks that errors are errors (never a
//! panic) with a non-empty message, and that a name built from a valid pattern by filling its
//! wildcards matches it.

use seqcast::bus::{validate_topic, Pattern};

/// Reference tokenizer: `None` if `s` is not well-formed for either a name or a pattern
/// (empty, whitespace or control characters, an empty token).
fn tokens(s: &str) -> Option<Vec<&str>> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let t: Vec<&str> = s.split('.').collect();
    t.iter().all(|t| !t.is_empty()).then_some(t)
}

/// Reference: is `s` a valid topic name?
fn ref_valid_topic(s: &str) -> bool {
    tokens(s).is_some_and(|t| t.iter().all(|t| !t.contains('*') && !t.contains('>')))
}

/// Reference: the tokens of `s` if it is a valid pattern.
fn ref_pattern(s: &str) -> Option<Vec<&str>> {
    let t = tokens(s)?;
    let last = t.len() - 1;
    for (i, tok) in t.iter().enumerate() {
        let wild = tok.contains('*') || tok.contains('>');
        let ok = match *tok {
            "*" => true,
            ">" => i == last,
            _ => !wild,
        };
        if !ok {
            return None;
        }
    }
    Some(t)
}

/// Reference matcher, recursive, straight from the rules.
fn ref_matches(p: &[&str], n: &[&str]) -> bool {
    match (p.first(), n.first()) {
        (None, None) => true,
        (Some(&">"), Some(_)) => true,
        (Some(&"*"), Some(_)) => ref_matches(&p[1..], &n[1..]),
        (Some(lit), Some(tok)) => lit == tok && ref_matches(&p[1..], &n[1..]),
        _ => false,
    }
}

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let pattern_src = lines.next().unwrap_or("");
    let names: Vec<&str> = lines.collect();

    let parsed = Pattern::parse(pattern_src);
    let want = ref_pattern(pattern_src);
    assert_eq!(
        parsed.is_ok(),
        want.is_some(),
        "Pattern::parse({pattern_src:?}) = {parsed:?}"
    );
    // `FromStr` agrees with `parse`.
    assert_eq!(pattern_src.parse::<Pattern>().is_ok(), parsed.is_ok());

    for name in names.iter().copied().chain([pattern_src]) {
        let valid = validate_topic(name);
        assert_eq!(
            valid.is_ok(),
            ref_valid_topic(name),
            "validate_topic({name:?}) = {valid:?}"
        );
        if let Err(e) = &valid {
            assert!(!e.to_string().is_empty());
        }
    }

    match (parsed, want) {
        (Err(e), None) => assert!(!e.to_string().is_empty()),
        (Ok(p), Some(ptoks)) => {
            assert_eq!(p.as_str(), pattern_src);
            assert_eq!(p.to_string(), pattern_src);
            assert_eq!(p.is_literal(), ptoks.iter().all(|t| *t != "*" && *t != ">"));
            for name in names {
                let want = tokens(name)
                    .filter(|_| ref_valid_topic(name))
                    .is_some_and(|n| ref_matches(&ptoks, &n));
                assert_eq!(p.matches(name), want, "{pattern_src:?}.matches({name:?})");
            }
            // Fill the wildcards: the result must match, and be a valid topic name.
            let filled: Vec<&str> = ptoks
                .iter()
                .map(|t| match *t {
                    "*" => "x",
                    ">" => "y.z",
                    t => t,
                })
                .collect();
            let filled = filled.join(".");
            assert!(validate_topic(&filled).is_ok(), "{filled:?}");
            assert!(
                p.matches(&filled),
                "{pattern_src:?} should match {filled:?}"
            );
            if p.is_literal() {
                assert!(p.matches(pattern_src));
            }
        }
        (parsed, want) => unreachable!("{parsed:?} vs {want:?}"),
    }
}
