//! Decides once, for the whole crate, which optional parts are compiled. Each is a cfg that
//! the code tests, so that no item repeats the condition:
//!
//! * `seqcast_async`: async receive and send (feature `async`). Never under loom, whose
//!   models run the blocking paths that share the same protocol.
//! * `seqcast_shm`: shared-memory topics (feature `shm`), on Linux on x86_64 and aarch64 only
//!   (where an atomic load of a read-only page is a plain load), and never under loom.
use std::env::var_os;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(seqcast_async)");
    println!("cargo::rustc-check-cfg=cfg(seqcast_shm)");
    println!("cargo::rerun-if-changed=build.rs");
    let loom = var_os("CARGO_CFG_SEQCAST_LOOM").is_some();
    let feature = |name: &str| var_os(format!("CARGO_FEATURE_{name}")).is_some();
    let target = |key: &str| var_os(format!("CARGO_CFG_TARGET_{key}")).unwrap_or_default();
    if feature("ASYNC") && !loom {
        println!("cargo::rustc-cfg=seqcast_async");
    }
    let arch = target("ARCH");
    if feature("SHM") && !loom && target("OS") == "linux" && (arch == "x86_64" || arch == "aarch64")
    {
        println!("cargo::rustc-cfg=seqcast_shm");
    }
}
