//! Core detection and placement: the publisher on the first core, each subscriber on a core
//! of its own when there are enough; otherwise subscribers share (clearly labelled).

use core_affinity::CoreId;

#[derive(Debug, Clone)]
pub struct Placement {
    pub publisher: Option<CoreId>,
    pub subscribers: Vec<Option<CoreId>>,
    /// Subscribers share cores (with each other or the publisher); they yield when empty.
    pub shared: bool,
}

pub fn cores() -> Vec<CoreId> {
    core_affinity::get_core_ids().unwrap_or_default()
}

/// Where to put a publisher and `n` subscribers on `cores`.
pub fn place(cores: &[CoreId], n: usize) -> Placement {
    if cores.len() > n {
        return Placement {
            publisher: Some(cores[0]),
            subscribers: cores[1..=n].iter().copied().map(Some).collect(),
            shared: false,
        };
    }
    // Not enough cores: publisher keeps core 0 if there is another for the subscribers,
    // which then share the remaining cores round-robin.
    let (publisher, rest) = match cores.len() {
        0 => (None, &[][..]),
        1 => (None, &[][..]),
        _ => (Some(cores[0]), &cores[1..]),
    };
    let subscribers = (0..n)
        .map(|i| (!rest.is_empty()).then(|| rest[i % rest.len()]))
        .collect();
    Placement {
        publisher,
        subscribers,
        shared: true,
    }
}

pub fn pin(core: Option<CoreId>) {
    if let Some(c) = core {
        // Best effort: an unpinned thread is still correct, just noisier.
        let _ = core_affinity::set_for_current(c);
    }
}
