//! Helpers of the shared-memory tests (`tests/shm.rs`, `tests/shm_shared.rs`): ring paths,
//! child processes that run one test of the same binary, and a read-write mapping to poke
//! words of a ring file the way a buggy or hostile process could.

use seqcast::shm;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The variable naming the ring file for a child process.
pub const CHILD_ENV: &str = "SEQCAST_SHM_CHILD";
/// An upper bound that only keeps a broken build from hanging; never a timing assertion.
pub const GENEROUS: Duration = Duration::from_secs(120);

/// A fresh ring path: in `/dev/shm` when there is one.
pub fn ring_path(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(shm::SHM_DIR);
    let dir = if dir.is_dir() {
        dir.to_owned()
    } else {
        std::env::temp_dir()
    };
    let n = N.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("seqcast-test-{}-{tag}-{n}", std::process::id()))
}

/// A child process running one test of this binary, and its stdout lines.
pub struct ChildProc {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl ChildProc {
    pub fn spawn(test: &str, path: &Path) -> Self {
        Self::spawn_with(test, path, &[])
    }

    /// [`spawn`](Self::spawn) with more environment variables for the child.
    pub fn spawn_with(test: &str, path: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, path)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn child test process");
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProc { child, lines }
    }

    /// The first line containing `marker` (panics after `GENEROUS` or if the child exits).
    pub fn line_with(&self, marker: &str) -> String {
        loop {
            match self.lines.recv_timeout(GENEROUS) {
                Ok(line) if line.contains(marker) => return line,
                Ok(_) => {}
                Err(e) => panic!("child never printed {marker:?}: {e}"),
            }
        }
    }

    pub fn wait_success(mut self) {
        for _ in 0..(GENEROUS.as_millis() / 10) {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "child failed: {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("child did not exit");
    }
}

/// A read-write mapping of a ring file, to poke words at header and slot offsets the way a
/// buggy or hostile process could.
pub struct Poke {
    pub map: memmap2::MmapRaw,
}

impl Poke {
    pub fn open(path: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        Poke {
            map: memmap2::MmapOptions::new().map_raw(&file).unwrap(),
        }
    }

    /// The 8-byte word at byte `offset` of the file.
    pub fn word(&self, offset: u64) -> &std::sync::atomic::AtomicU64 {
        let offset = usize::try_from(offset).unwrap();
        assert!(offset % 8 == 0 && offset + 8 <= self.map.len());
        // SAFETY: in bounds and 8-aligned (checked above; the mapping is page-aligned); the
        // ring's words are only ever accessed atomically, by every process; the reference
        // lives no longer than `self`, which owns the mapping.
        unsafe { &*self.map.as_ptr().add(offset).cast() }
    }

    /// The stamp of slot `i`.
    pub fn stamp(&self, info: &shm::RingInfo, i: u64) -> &std::sync::atomic::AtomicU64 {
        self.word(info.slots_offset + i * info.slot_size)
    }
}
