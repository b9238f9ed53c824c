//! [`Mapping`]: which NATS subject a local topic name corresponds to.
//!
//! seqcast topic names and NATS subjects follow the same rules (dot-separated tokens, `*`
//! one token, `>` one or more trailing tokens), so a name maps to a subject one to one:
//! unchanged ([`Mapping::Same`]) or below a prefix ([`Mapping::Prefix`]). A prefix is how
//! several buses share one NATS account without their names colliding, and the simplest way
//! to keep a bus from hearing its own traffic (see the crate's loop-prevention notes).

use crate::Error;
use seqcast::bus::validate_topic;

/// How local topic names map to NATS subjects: one to one, unchanged or below a prefix.
///
/// Topic names and NATS subjects follow the same rules (dot-separated tokens, `*` one
/// token, `>` one or more trailing tokens), so patterns map the same way. A prefix lets
/// several buses share one NATS account without their names colliding, and is the
/// simplest loop prevention (see the [crate docs](crate#loop-prevention)).
///
/// ```
/// use seqcast_nats::Mapping;
///
/// let m = Mapping::prefix("site-a").unwrap();
/// assert_eq!(m.to_subject("sensors.temp"), "site-a.sensors.temp");
/// assert_eq!(m.to_local("site-a.sensors.temp"), Some("sensors.temp"));
/// assert_eq!(m.to_local("site-b.sensors.temp"), None);
/// assert_eq!(Mapping::Same.to_subject("sensors.>"), "sensors.>");
/// assert!(Mapping::prefix("bad prefix").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mapping {
    /// Topic `a.b` is subject `a.b`.
    #[default]
    Same,
    /// Topic `a.b` is subject `<prefix>.a.b`; a delivered subject without the prefix is
    /// not mapped (counted in [`DeliverStats::unmapped`](crate::DeliverStats::unmapped)).
    /// Build it with [`Mapping::prefix`], which validates the prefix.
    Prefix(String),
}

impl Mapping {
    /// Subjects are topic names below `prefix` (one or more tokens, no wildcards).
    pub fn prefix(prefix: &str) -> Result<Mapping, Error> {
        validate_topic(prefix).map_err(|e| Error::Mapping(format!("prefix {prefix:?}: {e}")))?;
        Ok(Mapping::Prefix(prefix.to_owned()))
    }

    /// The subject (or subject pattern) for a local topic name (or pattern).
    pub fn to_subject(&self, local: &str) -> String {
        match self {
            Mapping::Same => local.to_owned(),
            Mapping::Prefix(p) => format!("{p}.{local}"),
        }
    }

    /// The local topic name (or pattern) for a subject (or subject pattern), if it is under
    /// the prefix.
    pub fn to_local<'s>(&self, subject: &'s str) -> Option<&'s str> {
        match self {
            Mapping::Same => Some(subject),
            Mapping::Prefix(p) => subject
                .strip_prefix(p.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|rest| !rest.is_empty()),
        }
    }
}
