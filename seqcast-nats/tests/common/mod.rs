//! What every test binary of this crate shares: the harness that lists tests needing
//! `nats-server` as ignored where it is missing, bounded waits, and a runtime per test.

// Several test binaries include this module, each using a part of it.
#![allow(dead_code)]

use crate::server;
use libtest_mimic::{Arguments, Failed, Trial};
use std::future::Future;
use std::time::{Duration, Instant};

/// Generous bound on every wait: the machine may be slow, the tests must not be flaky.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Polls `done` (every 5 ms) until it holds; panics naming `what` after [`TIMEOUT`].
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs one test on a fresh two-worker runtime, as `#[tokio::test(flavor = "multi_thread")]`
/// would.
pub fn on_runtime<F: Future<Output = ()>>(test: fn() -> F) -> Result<(), Failed> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(test());
    Ok(())
}

/// The tests of one binary, run by libtest-mimic.
///
/// Tests that need a server are *ignored*, with a note saying how to run them, where
/// `nats-server` is missing, instead of failing the workspace's test run or passing without
/// having run. With `SEQCAST_REQUIRE_NATS=1` (CI) they run whatever happens, and fail if
/// there is no server.
pub struct Suite {
    trials: Vec<Trial>,
    missing: bool,
}

impl Suite {
    pub fn new() -> Suite {
        let required = std::env::var_os("SEQCAST_REQUIRE_NATS").is_some_and(|v| v != "0");
        Suite {
            trials: Vec::new(),
            missing: server::binary().is_none() && !required,
        }
    }

    /// A test that starts a `nats-server`.
    pub fn needs_server(mut self, name: &'static str, test: fn() -> Result<(), Failed>) -> Self {
        self.trials
            .push(Trial::test(name, test).with_ignored_flag(self.missing));
        self
    }

    /// A test that runs anywhere.
    pub fn test(mut self, name: &'static str, test: fn() -> Result<(), Failed>) -> Self {
        self.trials.push(Trial::test(name, test));
        self
    }

    pub fn run(self) -> ! {
        let args = Arguments::from_args();
        if self.missing {
            let skipped = self.trials.iter().filter(|t| t.has_ignored_flag()).count();
            println!(
                "\nNOTE: nats-server not found: {skipped} seqcast-nats tests that need a real \
                 NATS server are IGNORED below (not run); {}.\n",
                server::INSTALL_HINT
            );
        }
        libtest_mimic::run(&args, self.trials).exit()
    }
}
