//! The `Bus`: topic names and patterns (grammar, matching), checked against naive references.

use seqcast::bus::{validate_topic, Pattern};
use seqcast::error::{BusError, NameKind};
use seqcast::Bus;

mod common;
use common::Rng;

// ---------------------------------------------------------------------------------------------
// Names and patterns

/// Names × patterns with the expected result.
#[test]
fn pattern_table() {
    #[rustfmt::skip]
    let table: &[(&str, &str, bool)] = &[
        // literal patterns match exactly
        ("user.created", "user.created", true),
        ("user.created", "user.deleted", false),
        ("user.created", "user", false),
        ("user", "user.created", false),
        ("a", "a", true),
        // `*`: exactly one token
        ("user.*", "user.created", true),
        ("user.*", "user.deleted", true),
        ("user.*", "user", false),
        ("user.*", "user.created.eu", false),
        ("user.*", "order.created", false),
        ("*.error", "api.error", true),
        ("*.error", "db.error", true),
        ("*.error", "error", false),
        ("*.error", "db.read.error", false),
        ("*.error", "api.errors", false),
        ("*", "a", true),
        ("*", "a.b", false),
        ("*.*", "a.b", true),
        ("*.*", "a", false),
        ("*.*", "a.b.c", false),
        ("a.*.c", "a.b.c", true),
        ("a.*.c", "a.c", false),
        ("a.*.c", "a.b.b.c", false),
        // `>`: one or more trailing tokens
        (">", "a", true),
        (">", "a.b.c", true),
        ("order.>", "order.created", true),
        ("order.>", "order.created.eu", true),
        ("order.>", "order", false),
        ("order.>", "orders.created", false),
        ("*.>", "a", false),
        ("*.>", "a.b", true),
        ("*.>", "a.b.c", true),
        ("a.*.>", "a.b.c.d", true),
        ("a.*.>", "a.b", false),
        // tokens are compared whole, and bytes exactly
        ("user", "users", false),
        ("User.created", "user.created", false),
        ("café.*", "café.open", true),
        ("metrics.host-1.*", "metrics.host-1.cpu", true),
        // invalid names match nothing
        (">", "a..b", false),
        ("*", "", false),
        ("a.*", "a.*", false),
        ("a.>", "a.b c", false),
    ];
    for &(pattern, name, expected) in table {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(
            p.matches(name),
            expected,
            "pattern {pattern:?} vs name {name:?}"
        );
        assert_eq!(p.as_str(), pattern);
        assert_eq!(p.to_string(), pattern);
    }
    assert!(Pattern::parse("a.b").unwrap().is_literal());
    assert!(!Pattern::parse("a.*").unwrap().is_literal());
    assert_eq!(
        "x.>".parse::<Pattern>().unwrap(),
        Pattern::parse("x.>").unwrap()
    );
}

#[test]
fn invalid_names() {
    use NameKind::Topic as T;
    let s = |x: &str| x.to_owned();
    let cases: Vec<(&str, BusError)> = vec![
        ("", BusError::Empty { kind: T }),
        (
            "a..b",
            BusError::EmptyToken {
                kind: T,
                input: s("a..b"),
                index: 1,
            },
        ),
        (
            ".a",
            BusError::EmptyToken {
                kind: T,
                input: s(".a"),
                index: 0,
            },
        ),
        (
            "a.",
            BusError::EmptyToken {
                kind: T,
                input: s("a."),
                index: 1,
            },
        ),
        (
            ".",
            BusError::EmptyToken {
                kind: T,
                input: s("."),
                index: 0,
            },
        ),
        (
            "a b",
            BusError::InvalidChar {
                kind: T,
                input: s("a b"),
                ch: ' ',
                offset: 1,
            },
        ),
        (
            "a\tb",
            BusError::InvalidChar {
                kind: T,
                input: s("a\tb"),
                ch: '\t',
                offset: 1,
            },
        ),
        (
            "é\u{7}",
            BusError::InvalidChar {
                kind: T,
                input: s("é\u{7}"),
                ch: '\u{7}',
                offset: 2,
            },
        ),
        (
            " ",
            BusError::InvalidChar {
                kind: T,
                input: s(" "),
                ch: ' ',
                offset: 0,
            },
        ),
        (
            "a\u{a0}b",
            BusError::InvalidChar {
                kind: T,
                input: s("a\u{a0}b"),
                ch: '\u{a0}',
                offset: 1,
            },
        ),
        ("user.*", BusError::WildcardInName { name: s("user.*") }),
        (">", BusError::WildcardInName { name: s(">") }),
        ("a*", BusError::WildcardInName { name: s("a*") }),
        // characters are checked before tokens
        (
            "a..b c",
            BusError::InvalidChar {
                kind: T,
                input: s("a..b c"),
                ch: ' ',
                offset: 4,
            },
        ),
        // an empty token is reported before a wildcard
        (
            "*..a",
            BusError::EmptyToken {
                kind: T,
                input: s("*..a"),
                index: 1,
            },
        ),
    ];
    let bus = Bus::new();
    for (name, expected) in cases {
        assert_eq!(validate_topic(name), Err(expected.clone()), "{name:?}");
        assert_eq!(bus.publisher::<u8>(name).unwrap_err(), expected, "{name:?}");
        assert_eq!(bus.subscribe::<u8>(name).unwrap_err(), expected, "{name:?}");
        assert_eq!(bus.remove(name), Err(expected.clone()), "{name:?}");
        let message = expected.to_string();
        if !name.is_empty() {
            assert!(message.contains(&format!("{name:?}")), "{message}");
        }
    }
    assert!(
        bus.topics().is_empty(),
        "no topic was created by a bad name"
    );
    for good in [
        "a",
        "a.b",
        "order.created.eu",
        "café.ouvert",
        "x-1.y_2",
        "1.2.3",
        "a#b",
    ] {
        assert_eq!(validate_topic(good), Ok(()), "{good:?}");
    }
}

#[test]
fn invalid_patterns() {
    use NameKind::Pattern as P;
    let s = |x: &str| x.to_owned();
    let cases: Vec<(&str, BusError)> = vec![
        ("", BusError::Empty { kind: P }),
        (
            "a..b",
            BusError::EmptyToken {
                kind: P,
                input: s("a..b"),
                index: 1,
            },
        ),
        (
            "*.",
            BusError::EmptyToken {
                kind: P,
                input: s("*."),
                index: 1,
            },
        ),
        (
            ".>",
            BusError::EmptyToken {
                kind: P,
                input: s(".>"),
                index: 0,
            },
        ),
        (
            "a.>.b",
            BusError::TailNotLast {
                pattern: s("a.>.b"),
            },
        ),
        (">.>", BusError::TailNotLast { pattern: s(">.>") }),
        (
            "a*",
            BusError::PartialWildcard {
                pattern: s("a*"),
                token: s("a*"),
            },
        ),
        (
            "x.*b",
            BusError::PartialWildcard {
                pattern: s("x.*b"),
                token: s("*b"),
            },
        ),
        (
            "x.>>",
            BusError::PartialWildcard {
                pattern: s("x.>>"),
                token: s(">>"),
            },
        ),
        (
            "**",
            BusError::PartialWildcard {
                pattern: s("**"),
                token: s("**"),
            },
        ),
        (
            "a.> ",
            BusError::InvalidChar {
                kind: P,
                input: s("a.> "),
                ch: ' ',
                offset: 3,
            },
        ),
        (
            "a\n",
            BusError::InvalidChar {
                kind: P,
                input: s("a\n"),
                ch: '\n',
                offset: 1,
            },
        ),
    ];
    let bus = Bus::new();
    for (pattern, expected) in cases {
        assert_eq!(
            Pattern::parse(pattern),
            Err(expected.clone()),
            "{pattern:?}"
        );
        assert_eq!(bus.subscribe_pattern::<u8>(pattern).unwrap_err(), expected);
        let message = expected.to_string();
        assert!(message.starts_with("invalid pattern"), "{message}");
    }
}

#[test]
fn error_messages() {
    let e = validate_topic("a..b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid topic name \"a..b\": token 1 is empty \
         (tokens are separated by single dots, with no leading or trailing dot)"
    );
    assert_eq!(
        Pattern::parse("a.>.b").unwrap_err().to_string(),
        "invalid pattern \"a.>.b\": `>` matches the rest of a name, so it must be the last token"
    );
    assert_eq!(
        validate_topic("").unwrap_err().to_string(),
        "invalid topic name: it is empty"
    );
    let bus = Bus::new();
    bus.publisher::<u64>("prices").unwrap();
    let e = bus.subscribe::<u32>("prices").unwrap_err();
    assert_eq!(
        e.to_string(),
        "topic \"prices\" carries u64, but u32 was asked for"
    );
    let e: Box<dyn std::error::Error> = Box::new(e);
    assert!(e.source().is_none());
}

// ---------------------------------------------------------------------------------------------
// Property test: the matcher and the validators against naive references

/// Reference validity: straight from the rules, with no shared code.
fn reference_valid(input: &str, pattern: bool) -> bool {
    if input.is_empty() || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let tokens: Vec<&str> = input.split('.').collect();
    tokens.iter().enumerate().all(|(i, t)| {
        if t.is_empty() {
            false
        } else if !t.contains('*') && !t.contains('>') {
            true
        } else {
            pattern && (*t == "*" || (*t == ">" && i == tokens.len() - 1))
        }
    })
}

/// Reference matcher: recursive over token slices.
fn reference_match(pattern: &[&str], name: &[&str]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((&">", rest)), _) => rest.is_empty() && !name.is_empty(),
        (Some((&"*", p)), Some((_, n))) => reference_match(p, n),
        (Some((a, p)), Some((b, n))) => a == b && reference_match(p, n),
        _ => false,
    }
}

#[test]
fn property_matcher_against_reference() {
    let mut rng = Rng::new(0x5EED_CA57_0000_0003);
    let tokens = ["a", "b", "ab", "c"];
    let mut matched = 0;
    // Far fewer under Miri, which interprets every step.
    let cases = if cfg!(miri) { 200 } else { 20_000 };
    for _ in 0..cases {
        // Structured, always-valid names and patterns: exercise matching.
        let name: Vec<&str> = (0..1 + rng.index(4)).map(|_| rng.pick(&tokens)).collect();
        let len = 1 + rng.index(4);
        let mut pattern: Vec<&str> = (0..len)
            .map(|_| match rng.index(4) {
                0 => "*",
                _ => rng.pick(&tokens),
            })
            .collect();
        if rng.index(3) == 0 {
            *pattern.last_mut().unwrap() = ">";
        }
        let (name_s, pattern_s) = (name.join("."), pattern.join("."));
        let parsed = Pattern::parse(&pattern_s).unwrap();
        let expected = reference_match(&pattern, &name);
        matched += expected as u32;
        assert_eq!(
            parsed.matches(&name_s),
            expected,
            "{pattern_s:?} vs {name_s:?}"
        );
    }
    assert!(
        matched > cases / 20,
        "the generator hits matches too ({matched})"
    );

    // Arbitrary strings: validity and matching.
    let alphabet = ["a", "b", ".", ".", "*", ">", " ", "\t", "é", "\u{0}"];
    for _ in 0..cases {
        let gen =
            |rng: &mut Rng| -> String { (0..rng.index(7)).map(|_| rng.pick(&alphabet)).collect() };
        let (name, pattern) = (gen(&mut rng), gen(&mut rng));
        assert_eq!(
            validate_topic(&name).is_ok(),
            reference_valid(&name, false),
            "{name:?}"
        );
        let parsed = Pattern::parse(&pattern);
        assert_eq!(
            parsed.is_ok(),
            reference_valid(&pattern, true),
            "{pattern:?}"
        );
        if let Ok(p) = parsed {
            let expected = reference_valid(&name, false)
                && reference_match(
                    &pattern.split('.').collect::<Vec<_>>(),
                    &name.split('.').collect::<Vec<_>>(),
                );
            assert_eq!(p.matches(&name), expected, "{pattern:?} vs {name:?}");
        }
    }
}
