#!/usr/bin/env python3
"""Checks the Rust versions the README promises against what the locked dependencies declare.

* The library: every crate in `seqcast`'s normal and build dependencies (all features, this
  machine's target) must declare a `rust-version` no newer than seqcast's own (clippy's
  `incompatible_msrv` lint checks seqcast's own code against it in the clippy step).
* The README's commands: the newest `rust-version` anywhere in the workspace's dependency
  graph (dev-dependencies included) is what `cargo test --workspace` needs; the README must
  state it ("Rust ≥ 1.NN"), and the library's version too.

Prints the crates that set each figure. Exits non-zero on a mismatch.
"""
import json
import re
import subprocess
import sys


def version_key(v):
    return tuple(int(x) for x in (v or "0").split(".")) + (0,) * (3 - len((v or "0").split(".")))


def short(v):
    parts = v.split(".")
    return ".".join(parts[:2])


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True,
    ).stdout
)
declared = {(p["name"], p["version"]): p.get("rust_version") for p in meta["packages"]}


def closure(args):
    out = subprocess.run(
        ["cargo", "tree", "--locked", "--all-features", "--prefix", "none",
         "--format", "{p}", "--no-dedupe"] + args,
        check=True, capture_output=True, text=True,
    ).stdout
    seen = set()
    for line in out.splitlines():
        m = re.match(r"^(\S+) v(\S+)", line.strip())
        if m:
            seen.add((m.group(1), m.group(2)))
    return seen


def newest(crates):
    ranked = sorted(crates, key=lambda c: version_key(declared.get(c)), reverse=True)
    top = declared.get(ranked[0]) if ranked else None
    return top, [c for c in ranked if version_key(declared.get(c)) == version_key(top)]


failed = False
lib_msrv = declared[next(c for c in declared if c[0] == "seqcast")]
lib_deps = closure(["-p", "seqcast", "-e", "normal,build"]) - {c for c in declared if c[0] == "seqcast"}
too_new = [c for c in lib_deps if version_key(declared.get(c)) > version_key(lib_msrv)]
undeclared = sorted(c[0] for c in lib_deps if declared.get(c) is None)
print(f"library: seqcast declares rust-version {lib_msrv}; {len(lib_deps)} dependencies")
if undeclared:
    print(f"  (declaring no rust-version, not checked: {', '.join(undeclared)})")
for name, ver in sorted(too_new):
    print(f"  FAIL: {name} {ver} needs Rust {declared[(name, ver)]}")
    failed = True

everything = closure(["--workspace", "-e", "normal,build,dev"])
need, by = newest(everything)
print(f"cargo test --workspace: needs Rust {need} (set by {', '.join(f'{n} {v}' for n, v in by)})")

readme = open("README.md", encoding="utf-8").read()
for what, v in [("the test suite", need), ("the library", lib_msrv)]:
    want = f"Rust ≥ {short(v)}"
    if want not in readme:
        print(f"  FAIL: the README does not say '{want}' ({what})")
        failed = True

sys.exit(1 if failed else 0)
