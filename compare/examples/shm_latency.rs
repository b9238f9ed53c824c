//! One-way latency, publisher process → subscriber process through a shared-memory ring,
//! against the same measurement between two threads of one process (`seqcast::channel`).
//!
//! ```text
//! cargo run --release --example shm_latency -- [messages per round] [rounds] [gap_us]
//! ```
//! Defaults: 10 000 messages per round, 15 rounds of each kind (interleaved), one message
//! every 20 µs. Short rounds and many of them: on a shared 2-vCPU machine, a round in which
//! the scheduler preempts the subscriber for milliseconds is outvoted by the median. The publisher runs pinned on the first core, the subscriber (a child process,
//! or a thread) busy-polls `try_recv` pinned on the second (`core_affinity`). Each message
//! carries its send time from `CLOCK_MONOTONIC` (one clock for every process; a vDSO read
//! costs about 20 ns and is paid the same way by both kinds). The subscriber records
//! `now - sent` for every message after the first 1 000 and prints p50/p90/p99/p99.9/max from
//! the sorted samples, and `preempt`, how many times the scheduler took the subscriber's core
//! (involuntary context switches; on a loaded machine these, not the ring, make the tail);
//! the summary gives the median of the rounds. The same payload
//! (`[u64; 2]`: sequence number and send time, one cache line per slot) in both.

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod bench {
    use seqcast::error::TryRecvError;
    use seqcast::shm::{ShmPublisher, ShmSubscriber};
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    const TYPE: &str = "shm_latency [u64; 2]";
    const WARMUP: u64 = 1_000;

    /// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process.
    fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec`; CLOCK_MONOTONIC always exists.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    /// Involuntary context switches of the calling thread so far: how often something else
    /// took its core (0 = the measurement ran undisturbed).
    fn preemptions() -> u64 {
        // SAFETY: `rusage` is plain data, all-zero is a valid value.
        let mut usage: libc::rusage = unsafe { core::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable `rusage`; RUSAGE_THREAD is supported on Linux.
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        usage.ru_nivcsw as u64
    }

    /// The cores this process may use, read once before anything is pinned: a pinned thread's
    /// children (threads and processes) inherit its one-core mask, and `get_core_ids` would
    /// then list only that core.
    static CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();

    fn cores() -> &'static [usize] {
        CORES.get_or_init(|| {
            core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.id)
                .collect()
        })
    }

    /// Pins the calling thread to the `index`-th usable core.
    fn pin(index: usize) -> bool {
        match cores().get(index) {
            Some(&id) => core_affinity::set_for_current(core_affinity::CoreId { id }),
            None => false,
        }
    }

    /// The CPU the calling thread runs on now.
    fn cpu() -> i32 {
        // SAFETY: no arguments, no memory; returns -1 on error.
        unsafe { libc::sched_getcpu() }
    }

    /// Publishes `n` messages, one every `gap_ns`, through `send`.
    fn publish(n: u64, gap_ns: u64, mut send: impl FnMut([u64; 2])) {
        let mut next = now_ns();
        for seq in 0..n {
            while now_ns() < next {
                std::hint::spin_loop();
            }
            send([seq, now_ns()]);
            next += gap_ns;
        }
    }

    #[derive(Debug, Clone, Copy)]
    struct Summary {
        p50: u64,
        p90: u64,
        p99: u64,
        p999: u64,
        max: u64,
        samples: usize,
        lagged: u64,
        preempt: u64,
    }

    impl Summary {
        fn of(mut v: Vec<u64>, lagged: u64, preempt: u64) -> Summary {
            v.sort_unstable();
            let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
            Summary {
                p50: at(0.50),
                p90: at(0.90),
                p99: at(0.99),
                p999: at(0.999),
                max: at(1.0),
                samples: v.len(),
                lagged,
                preempt,
            }
        }
        fn line(&self) -> String {
            format!(
                "p50={} p90={} p99={} p999={} max={} samples={} lagged={} preempt={}",
                self.p50,
                self.p90,
                self.p99,
                self.p999,
                self.max,
                self.samples,
                self.lagged,
                self.preempt
            )
        }
        fn parse(line: &str) -> Summary {
            let field = |name: &str| -> u64 {
                let at = line.find(&format!(" {name}=")).expect(name) + name.len() + 2;
                let digits: String = line[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().unwrap()
            };
            Summary {
                p50: field("p50"),
                p90: field("p90"),
                p99: field("p99"),
                p999: field("p999"),
                max: field("max"),
                samples: field("samples") as usize,
                lagged: field("lagged"),
                preempt: field("preempt"),
            }
        }
    }

    /// The subscriber process: `shm_latency child <path> <n>`.
    fn child(path: &str, n: u64, core: usize) {
        let pinned = core_affinity::set_for_current(core_affinity::CoreId { id: core });
        let mut rx = ShmSubscriber::<[u64; 2]>::open_at(path, TYPE).expect("open ring");
        println!("READY pinned={pinned} cpu={}", cpu());
        let preempt0 = preemptions();
        let mut samples = Vec::with_capacity(n as usize);
        let mut lagged = 0;
        loop {
            match rx.try_recv() {
                Ok([seq, sent]) => {
                    let now = now_ns();
                    if seq >= WARMUP {
                        samples.push(now.saturating_sub(sent));
                    }
                }
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                Err(TryRecvError::Lagged(k)) => lagged += k,
                Err(TryRecvError::Closed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let preempt = preemptions() - preempt0;
        println!("RESULT {}", Summary::of(samples, lagged, preempt).line());
    }

    fn cross_process(n: u64, gap_ns: u64) -> Summary {
        let path = format!("/dev/shm/seqcast-latency-{}", std::process::id());
        let sub_core = cores().get(1).copied().unwrap_or(0);
        let mut tx = ShmPublisher::<[u64; 2]>::create_at(&path, 1024, TYPE).expect("create");
        let mut sub = Command::new(std::env::current_exe().unwrap())
            .args(["child", &path, &n.to_string(), &sub_core.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn subscriber process");
        let mut out = BufReader::new(sub.stdout.take().unwrap()).lines();
        let ready = out.next().expect("child output").unwrap();
        assert!(ready.starts_with("READY"), "{ready}");
        if round_zero() {
            println!("  subscriber process: {ready} (publisher on cpu {})", cpu());
        }
        publish(n, gap_ns, |m| {
            tx.send(m);
        });
        drop(tx);
        let result = out
            .map_while(Result::ok)
            .find(|l| l.starts_with("RESULT"))
            .expect("child result");
        assert!(sub.wait().unwrap().success());
        Summary::parse(&result)
    }

    fn in_process(n: u64, gap_ns: u64) -> Summary {
        let (mut tx, mut rx) = seqcast::channel::<[u64; 2]>(1024);
        let sub = std::thread::spawn(move || {
            let pinned = pin(1);
            assert!(
                pinned || cores().len() < 2,
                "cannot pin the subscriber thread"
            );
            let preempt0 = preemptions();
            let mut samples = Vec::with_capacity(n as usize);
            let mut lagged = 0;
            loop {
                match rx.try_recv() {
                    Ok([seq, sent]) => {
                        let now = now_ns();
                        if seq >= WARMUP {
                            samples.push(now.saturating_sub(sent));
                        }
                    }
                    Err(TryRecvError::Empty) => std::hint::spin_loop(),
                    Err(TryRecvError::Lagged(k)) => lagged += k,
                    Err(_) => break,
                }
            }
            Summary::of(samples, lagged, preemptions() - preempt0)
        });
        // Let the subscriber thread start spinning before the first message.
        std::thread::sleep(std::time::Duration::from_millis(20));
        publish(n, gap_ns, |m| {
            tx.send(m);
        });
        drop(tx);
        sub.join().unwrap()
    }

    static FIRST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

    /// True the first time only (print the placement once).
    fn round_zero() -> bool {
        FIRST.swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    fn median(mut v: Vec<u64>) -> u64 {
        v.sort_unstable();
        v[v.len() / 2]
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) == Some("child") {
            return child(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap());
        }
        cores();
        let num = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
        let (n, rounds, gap_us) = (num(0, 10_000), num(1, 15), num(2, 20));
        let cores = core_affinity::get_core_ids().map_or(0, |c| c.len());
        let pinned = pin(0);
        println!(
            "one-way latency, ns (CLOCK_MONOTONIC; {n} messages per round, one every {gap_us} µs, \
             {cores} cores, publisher pinned: {pinned})"
        );
        let (mut shm, mut local) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let s = cross_process(n, gap_us * 1000);
            println!("round {round} shm (process -> process): {}", s.line());
            let l = in_process(n, gap_us * 1000);
            println!("round {round} in-process (thread -> thread): {}", l.line());
            shm.push(s);
            local.push(l);
        }
        println!("median of {rounds} rounds:");
        for (name, v) in [
            ("shm (process -> process)", &shm),
            ("in-process (thread -> thread)", &local),
        ] {
            let m = |f: fn(&Summary) -> u64| median(v.iter().map(f).collect());
            println!(
                "  {name:<30} p50 {:>6}  p90 {:>6}  p99 {:>7}  p99.9 {:>8}  max {:>9}",
                m(|s| s.p50),
                m(|s| s.p90),
                m(|s| s.p99),
                m(|s| s.p999),
                m(|s| s.max)
            );
        }
    }
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn main() {
    bench::main();
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn main() {
    eprintln!("this example needs seqcast's shared-memory topics: Linux, x86_64 or aarch64");
}
