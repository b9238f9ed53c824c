//! [`Topic`]: a topic's name as handed out by the bus, shared and cheap to clone.

use crate::sync::Arc;
use core::borrow::Borrow;
use core::fmt;

/// A topic name, reference-counted: cloning it copies a pointer, not the string.
///
/// A [`PatternSubscriber`](super::PatternSubscriber) tags each message with the `Topic` it
/// came from. Each pattern subscriber keeps its own copy of each name, so the reference
/// count it bumps per message is not shared with other threads.
///
/// Compares, orders and hashes like the string it holds, and compares equal to `&str`.
#[derive(Clone)]
pub struct Topic(Arc<String>);

impl Topic {
    pub(crate) fn new(name: &str) -> Topic {
        Topic(Arc::new(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl core::ops::Deref for Topic {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Topic {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Topic {
    fn eq(&self, other: &Topic) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Topic {}

impl PartialEq<str> for Topic {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Topic {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Topic {
    fn partial_cmp(&self, other: &Topic) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Topic {
    fn cmp(&self, other: &Topic) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl core::hash::Hash for Topic {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`: honours width and alignment (`{topic:<20}`).
        f.pad(self.as_str())
    }
}
