//! Topic names and subscription patterns: validation ([`validate_topic`]) and matching
//! ([`Pattern`]), following the NATS subject conventions.
//!
//! A **topic name** is one or more tokens separated by single dots (`order.created`,
//! `metrics.host1.cpu`). A token is any non-empty run of characters other than `.`,
//! whitespace and control characters; `*` and `>` are reserved for patterns.
//!
//! A **pattern** is a name in which a whole token may also be a wildcard:
//! * `*` matches exactly one token: `order.*` matches `order.created` but neither `order`
//!   nor `order.created.eu`; `*.error` matches `api.error`.
//! * `>` matches one or more trailing tokens and must be the last token: `order.>` matches
//!   `order.created` and `order.created.eu` but not `order`; `>` alone matches every name.
//!
//! A pattern without wildcards matches exactly the name it spells. Matching is token by
//! token: no prefix, suffix or regex matching (`a*` and `*b` are rejected, not globbed).

use crate::error::{BusError, NameKind};
use core::fmt;

/// Checks that `name` is a valid topic name (see the [`bus` module docs](crate::bus)): non-empty, no
/// whitespace or control characters, no empty token, no wildcard.
///
/// Problems are reported in this order: empty input, the first bad character, then the
/// tokens from the left (an empty token, then a wildcard).
///
/// # Examples
/// ```
/// use seqcast::bus::validate_topic;
/// use seqcast::error::BusError;
///
/// assert!(validate_topic("order.created").is_ok());
/// assert!(matches!(validate_topic("order..created"), Err(BusError::EmptyToken { index: 1, .. })));
/// assert!(matches!(validate_topic("order.*"), Err(BusError::WildcardInName { .. })));
/// assert_eq!(
///     validate_topic("order created").unwrap_err().to_string(),
///     "invalid topic name \"order created\": ' ' at byte 5 \
///      (whitespace and control characters are not allowed)"
/// );
/// ```
pub fn validate_topic(name: &str) -> Result<(), BusError> {
    check_common(name, NameKind::Topic)?;
    if name.contains(['*', '>']) {
        return Err(BusError::WildcardInName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The checks shared by names and patterns: non-empty, no whitespace or control character,
/// no empty token.
fn check_common(input: &str, kind: NameKind) -> Result<(), BusError> {
    if input.is_empty() {
        return Err(BusError::Empty { kind });
    }
    if let Some((offset, ch)) = input
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(BusError::InvalidChar {
            kind,
            input: input.to_owned(),
            ch,
            offset,
        });
    }
    if let Some(index) = input.split('.').position(str::is_empty) {
        return Err(BusError::EmptyToken {
            kind,
            input: input.to_owned(),
            index,
        });
    }
    Ok(())
}

/// One token of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    /// Matches this exact token.
    Literal(Box<str>),
    /// `*`: any one token.
    One,
    /// `>`: one or more trailing tokens (only ever last).
    Tail,
}

/// A parsed subscription pattern: dot-separated tokens where `*` matches one token and `>`
/// (last only) matches one or more trailing tokens. See the [`bus` module docs](crate::bus).
///
/// # Examples
/// ```
/// use seqcast::bus::Pattern;
///
/// let users = Pattern::parse("user.*").unwrap();
/// assert!(users.matches("user.created"));
/// assert!(!users.matches("user.created.eu"));
/// assert!(!users.matches("user"));
///
/// let errors = Pattern::parse("*.error").unwrap();
/// assert!(errors.matches("db.error"));
///
/// let everything_eu = Pattern::parse("eu.>").unwrap();
/// assert!(everything_eu.matches("eu.order.created"));
/// assert!(!everything_eu.matches("eu"));
///
/// assert!(Pattern::parse("a.>.b").is_err()); // `>` must be last
/// assert!(Pattern::parse("user*").is_err()); // wildcards are whole tokens
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// The text it was parsed from.
    source: Box<str>,
    /// Its tokens; `Token::Tail` only ever last.
    tokens: Box<[Token]>,
}

impl Pattern {
    /// Parses `pattern`. Errors: [`BusError::Empty`], [`BusError::InvalidChar`],
    /// [`BusError::EmptyToken`], [`BusError::PartialWildcard`] (`a*`, `*b`, `>x`) and
    /// [`BusError::TailNotLast`] (`a.>.b`), checked in that order (tokens from the left).
    pub fn parse(pattern: &str) -> Result<Pattern, BusError> {
        check_common(pattern, NameKind::Pattern)?;
        let count = pattern.split('.').count();
        let mut tokens = Vec::with_capacity(count);
        for (i, token) in pattern.split('.').enumerate() {
            tokens.push(match token {
                "*" => Token::One,
                ">" if i + 1 == count => Token::Tail,
                ">" => {
                    return Err(BusError::TailNotLast {
                        pattern: pattern.to_owned(),
                    })
                }
                t if t.contains(['*', '>']) => {
                    return Err(BusError::PartialWildcard {
                        pattern: pattern.to_owned(),
                        token: t.to_owned(),
                    })
                }
                t => Token::Literal(t.into()),
            });
        }
        Ok(Pattern {
            source: pattern.into(),
            tokens: tokens.into_boxed_slice(),
        })
    }

    /// Whether the topic `name` matches. An invalid topic name (see [`validate_topic`])
    /// matches nothing.
    pub fn matches(&self, name: &str) -> bool {
        validate_topic(name).is_ok() && self.matches_valid(name)
    }

    /// [`matches`](Self::matches) for a name already known to be valid.
    pub(crate) fn matches_valid(&self, name: &str) -> bool {
        let mut parts = name.split('.');
        for token in self.tokens.iter() {
            match token {
                // One or more tokens left: `>` takes them all.
                Token::Tail => return parts.next().is_some(),
                Token::One => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                Token::Literal(lit) => {
                    if parts.next() != Some(&**lit) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// Whether the pattern has no wildcard (it matches exactly one name).
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
    }

    /// The text the pattern was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl core::str::FromStr for Pattern {
    type Err = BusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::parse(s)
    }
}
