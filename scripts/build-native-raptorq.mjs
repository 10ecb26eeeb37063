#!/usr/bin/env node
// Builds the optional native column of `npm run bench:raptorq`: a small bench binary linked
// against a local checkout of the reference Rust crate (cberner/raptorq), release build,
// `cargo build --offline` (the crate has no required dependencies). Nothing here runs in
// `npm test` or CI, and nothing fetched is kept in this repository.
//
// Usage: node scripts/build-native-raptorq.mjs --source DIR      (a checkout of the crate)
//        node scripts/build-native-raptorq.mjs --git-dir DIR     (a bare clone; HEAD is used)
//        [--out DIR]  build directory (default $TMPDIR/fcp-native-raptorq)
// The binary lands at <out>/raptorq-native-bench, where the bench looks for it (or set
// RAPTORQ_NATIVE_BENCH to its path).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function arg(name) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

const out = resolve(arg('--out') ?? join(tmpdir(), 'fcp-native-raptorq'));
let source = arg('--source');
const gitDir = arg('--git-dir');
if (!source && !gitDir) {
  console.error('give --source DIR (a checkout of cberner/raptorq) or --git-dir DIR (a bare clone)');
  process.exit(2);
}
if (spawnSync('cargo', ['--version']).status !== 0) {
  console.error('cargo is not installed: the native bench column is optional, nothing was built');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
if (gitDir) {
  source = join(out, 'crate');
  rmSync(source, { recursive: true, force: true });
  mkdirSync(source);
  const archive = spawnSync('git', ['--git-dir', gitDir, 'archive', 'HEAD'], { maxBuffer: 1 << 30 });
  if (archive.status !== 0) {
    console.error(`git archive failed: ${archive.stderr}`);
    process.exit(1);
  }
  run('tar', ['-x', '-C', source], { input: archive.stdout, stdio: ['pipe', 'inherit', 'inherit'] });
}
source = resolve(source);
if (!existsSync(join(source, 'Cargo.toml'))) {
  console.error(`${source} has no Cargo.toml`);
  process.exit(1);
}

const crate = join(out, 'bench-crate');
mkdirSync(join(crate, 'src'), { recursive: true });
writeFileSync(
  join(crate, 'Cargo.toml'),
  `[package]
name = "raptorq-native-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
raptorq = { path = ${JSON.stringify(source)}, default-features = false, features = ["std"] }

[profile.release]
opt-level = 3
codegen-units = 1
lto = "fat"

[workspace]
`,
);
writeFileSync(join(crate, 'src', 'main.rs'), MAIN_RS());
// The crate pins a toolchain in rust-toolchain; building from the bench crate's own directory
// uses the installed one instead of asking rustup to download another.
run('cargo', ['build', '--offline', '--release', '--manifest-path', join(crate, 'Cargo.toml')], {
  env: { ...process.env, CARGO_TARGET_DIR: join(out, 'target') },
});
copyFileSync(join(out, 'target', 'release', 'raptorq-native-bench'), join(out, 'raptorq-native-bench'));
console.log(`built ${join(out, 'raptorq-native-bench')}`);

// The bench program: arguments size runs seed mtu peak clock (wall | cpu: process CPU time,
// clock_gettime(CLOCK_PROCESS_CPUTIME_ID)); prints JSON with milliseconds per run
// (encode, decode with a fresh 20% source loss per run, decode with one repeated pattern) and,
// with peak = 1, the resident-set growth of one fresh-pattern decode.
function MAIN_RS() {
  return String.raw`
use raptorq::{Decoder, Encoder, EncodingPacket};
use std::time::Instant;

fn data(size: usize, seed: u32) -> Vec<u8> {
    let mut out = vec![0u8; size];
    let mut x: u32 = if seed == 0 { 1 } else { seed };
    for chunk in out.chunks_exact_mut(4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    out
}

struct Lcg(u32);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(1664525).wrapping_add(1013904223);
        self.0 as f64 / 4294967296.0
    }
}

/// Per block: 20% of the source packets dropped, as many repair packets (+10 spare) after the
/// kept ones; blocks interleaved round-robin.
fn workload(blocks: &[(Vec<EncodingPacket>, Vec<EncodingPacket>)], seed: u32) -> Vec<EncodingPacket> {
    let mut rng = Lcg(seed);
    let mut per_block: Vec<Vec<EncodingPacket>> = Vec::new();
    for (source, repair) in blocks {
        let k = source.len();
        let mut esis: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            let j = (rng.next() * (i + 1) as f64) as usize;
            esis.swap(i, j);
        }
        let lost = ((k as f64) * 0.2).round() as usize;
        let mut keep = vec![false; k];
        for &e in &esis[lost..] {
            keep[e] = true;
        }
        let mut list: Vec<EncodingPacket> = source.iter().enumerate().filter(|(i, _)| keep[*i]).map(|(_, p)| p.clone()).collect();
        list.extend(repair.iter().take(lost + 10).cloned());
        per_block.push(list);
    }
    let longest = per_block.iter().map(|b| b.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..longest {
        for b in &per_block {
            if i < b.len() {
                out.push(b[i].clone());
            }
        }
    }
    out
}

fn decode(config: raptorq::ObjectTransmissionInformation, packets: Vec<EncodingPacket>) -> Vec<u8> {
    let mut dec = Decoder::new(config);
    for p in packets {
        if let Some(r) = dec.decode(p) {
            return r;
        }
    }
    panic!("native decoder did not finish");
}

fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0) * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}
unsafe extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

/// This process's CPU time in milliseconds (as Node's process.cpuUsage), for timing on an
/// oversubscribed machine.
fn cpu_ms() -> f64 {
    let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

struct Clock {
    cpu: bool,
    wall: Instant,
    cpu_at: f64,
}
impl Clock {
    fn start(cpu: bool) -> Clock {
        Clock { cpu, wall: Instant::now(), cpu_at: if cpu { cpu_ms() } else { 0.0 } }
    }
    fn ms(&self) -> f64 {
        if self.cpu { cpu_ms() - self.cpu_at } else { self.wall.elapsed().as_secs_f64() * 1000.0 }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let size: usize = a[1].parse().unwrap();
    let runs: usize = a[2].parse().unwrap();
    let seed: u32 = a[3].parse().unwrap();
    let mtu: u16 = a[4].parse().unwrap();
    let peak = a.get(5).map(|s| s == "1").unwrap_or(false);
    let cpu = a.get(6).map(|s| s == "cpu").unwrap_or(false);
    let obj = data(size, size as u32);

    let enc = Encoder::with_defaults(&obj, mtu);
    let config = enc.get_config();
    let blocks: Vec<(Vec<EncodingPacket>, Vec<EncodingPacket>)> = enc
        .get_block_encoders()
        .iter()
        .map(|b| {
            let source = b.source_packets();
            let repair = b.repair_packets(0, ((source.len() as f64) * 0.2).round() as u32 + 10);
            (source, repair)
        })
        .collect();
    let repeat = workload(&blocks, 1234);

    if peak {
        let packets = workload(&blocks, seed);
        drop(blocks);
        drop(enc);
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (before, _) = rss();
        let out = decode(config, packets);
        let (_, high) = rss();
        assert!(out == obj);
        println!("{{\"encode\":[],\"decodeFresh\":[],\"decodeRepeat\":[],\"peak\":{}}}", high.saturating_sub(before));
        return;
    }

    let warmup = 1;
    let repair = ((blocks[0].0.len() as f64) * 0.2).round() as u32 + 2;
    let (mut e, mut f, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..(warmup + runs) {
        let fresh = workload(&blocks, seed.wrapping_add(run as u32));
        let rep = repeat.clone();
        let t = Clock::start(cpu);
        let en = Encoder::with_defaults(&obj, mtu);
        let packets = en.get_encoded_packets(repair);
        let te = t.ms();
        assert!(!packets.is_empty());
        let t = Clock::start(cpu);
        let out = decode(config, rep);
        let tr = t.ms();
        assert!(out == obj);
        let t = Clock::start(cpu);
        let out = decode(config, fresh);
        let tf = t.ms();
        assert!(out == obj);
        if run >= warmup {
            e.push(te);
            r.push(tr);
            f.push(tf);
        }
    }
    let j = |v: &Vec<f64>| v.iter().map(|x| format!("{:.4}", x)).collect::<Vec<_>>().join(",");
    println!("{{\"encode\":[{}],\"decodeFresh\":[{}],\"decodeRepeat\":[{}],\"peak\":-1}}", j(&e), j(&f), j(&r));
}
`;
}
