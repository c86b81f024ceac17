//! Mutation testing of the file path: thousands of deterministic mutants
//! of the bundled example projects (numbers and times pushed to extremes,
//! enum variants swapped, bytes deleted, duplicated, inserted or cut) go
//! through `archbench check`, and those that pass through a short
//! `archbench simulate`, each as its own process under a time limit. Every
//! one must end, without a panic or a signal, with exit code 0 or 1.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Mutants made, in all.
const MUTANTS: usize = 3_000;
/// The longest any one command may take; the simulations are of a few
/// hundred requests, a few milliseconds when nothing is wrong.
const LIMIT: Duration = Duration::from_secs(30);

/// A small, seeded generator (xorshift64*): the same mutants every run.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.0",
    "-0.0",
    "1e308",
    "1e-320",
    "4294967296",
    "18446744073709551616",
    "1000000000",
    "0.999999999",
    "NaN",
    "inf",
    "1e9",
];

const STRINGS: &[&str] = &[
    "\"0ns\"",
    "\"1ns\"",
    "\"8760h\"",
    "\"100000h\"",
    "\"-5ms\"",
    "\"exp:0ms\"",
    "\"exp:8760h\"",
    "\"lognormal:1ms,p99=1ms\"",
    "\"gamma:1ms,shape=0.000001\"",
    "\"uniform:5ms..1ms\"",
    "\"\"",
    "\"\\u{0}\"",
    "\"p99 <= 0ms\"",
    "\"frontend\"",
];

const VARIANTS: &[(&str, &str)] = &[
    ("Sync", "Async"),
    ("Async", "Sync"),
    ("Blocking", "Async"),
    ("Poisson", "Constant"),
    ("RoundRobin", "Pull"),
    ("Unbounded", "Bounded(0)"),
    ("Duration(", "Requests("),
    ("Requests(", "Duration("),
    ("Open(", "Closed("),
    ("Some(", "None,("),
];

/// Byte ranges `[start, end)` in a text.
type Spans = Vec<(usize, usize)>;

/// Byte spans of number literals and of quoted strings in `text`.
fn tokens(text: &[u8]) -> (Spans, Spans) {
    let (mut numbers, mut strings) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < text.len() && text[i] != b'"' {
                i += if text[i] == b'\\' { 2 } else { 1 };
            }
            strings.push((start, (i + 1).min(text.len())));
        } else if c.is_ascii_digit() && (i == 0 || !text[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < text.len() && (text[i].is_ascii_digit() || b".eE-".contains(&text[i])) {
                i += 1;
            }
            numbers.push((start, i));
            continue;
        }
        i += 1;
    }
    (numbers, strings)
}

/// One mutation of `text`.
fn mutate(text: &mut Vec<u8>, draws: &mut Draws) {
    let (numbers, strings) = tokens(text);
    let len = text.len().max(1);
    match draws.below(11) {
        0..=2 if !numbers.is_empty() => {
            let (a, b) = numbers[draws.below(numbers.len())];
            text.splice(a..b, draws.pick(NUMBERS).bytes());
        }
        3 | 4 if !strings.is_empty() => {
            let (a, b) = strings[draws.below(strings.len())];
            text.splice(a..b, draws.pick(STRINGS).bytes());
        }
        5 | 6 => {
            let (from, to) = VARIANTS[draws.below(VARIANTS.len())];
            let haystack = String::from_utf8_lossy(text).into_owned();
            let found: Vec<usize> = haystack.match_indices(from).map(|(i, _)| i).collect();
            if !found.is_empty() {
                let at = found[draws.below(found.len())];
                text.splice(at..at + from.len(), to.bytes());
            }
        }
        7 => {
            let at = draws.below(len);
            let n = 1 + draws.below(40);
            text.drain(at.min(text.len())..(at + n).min(text.len()));
        }
        8 => {
            let at = draws.below(len);
            let n = 1 + draws.below(200);
            let copy: Vec<u8> = text[at.min(text.len())..(at + n).min(text.len())].to_vec();
            let to = draws.below(len).min(text.len());
            text.splice(to..to, copy);
        }
        9 => {
            let at = draws.below(len).min(text.len());
            let byte =
                [b'(', b')', b'[', b']', b',', b':', b'"', 0xff, 0x00, b'\n'][draws.below(10)];
            text.insert(at, byte);
        }
        _ => {
            let at = draws.below(len);
            text.truncate(at);
        }
    }
}

/// Runs the binary with `args`; returns its exit code, or fails the test
/// on a signal, a panic or the time limit.
fn run(args: &[&str], mutant: &Path, label: &str) -> i32 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::Builder::new()
        .name("mutant-stderr".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        })
        .expect("a thread");
    #[expect(clippy::disallowed_methods, reason = "the time limit is real time")]
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if began.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let kept = keep(mutant, label);
            panic!(
                "{label}: {args:?} ran over {LIMIT:?}; the mutant is kept at {}",
                kept.display()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = reader.join().unwrap_or_default();
    let Some(code) = status.code() else {
        let kept = keep(mutant, label);
        panic!(
            "{label}: {args:?} ended by a signal ({status}); kept at {}\n{stderr}",
            kept.display()
        );
    };
    if stderr.contains("panicked") || !(code == 0 || code == 1) {
        let kept = keep(mutant, label);
        panic!(
            "{label}: {args:?} exited {code}; kept at {}\n{stderr}",
            kept.display()
        );
    }
    code
}

/// Copies a failing mutant where it can be looked at.
fn keep(mutant: &Path, label: &str) -> PathBuf {
    let to = std::env::temp_dir().join(format!("archbench-{label}.ron"));
    let _ = std::fs::copy(mutant, &to);
    to
}

#[test]
fn thousands_of_mutants_of_the_examples_end_with_exit_code_0_or_1() {
    let _cpu = crate::support::cpu_heavy();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("projects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    examples.sort();
    let texts: Vec<Vec<u8>> = examples.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let dir = std::env::temp_dir().join(format!("archbench-mutants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut draws = Draws(0x5eed_1234_abcd_ef01);
    let (mut valid, mut simulated) = (0, 0);
    for n in 0..MUTANTS {
        let which = draws.below(texts.len());
        let mut text = texts[which].clone();
        for _ in 0..=draws.below(3) {
            mutate(&mut text, &mut draws);
        }
        let path = dir.join(format!("mutant-{n}.ron"));
        std::fs::write(&path, &text).unwrap();
        let file = path.to_str().unwrap();
        let label = format!("mutant-{n}");
        if run(&["check", file], &path, &label) == 0 {
            valid += 1;
            // A short run: a few hundred requests after no warm-up, one
            // replication. (A long warm-up is a long run by request, and
            // `check` refuses one past 100 million requests.)
            let code = run(
                &[
                    "simulate",
                    file,
                    "--warmup",
                    "0s",
                    "--requests",
                    "300",
                    "--replications",
                    "1",
                    "--format",
                    "csv",
                ],
                &path,
                &label,
            );
            simulated += usize::from(code == 0);
        }
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir(&dir);
    // The mutants must reach the simulator, not only the parser.
    assert!(valid > MUTANTS / 10, "only {valid} mutants were valid");
    assert!(simulated > MUTANTS / 20, "only {simulated} simulated");
    eprintln!("{MUTANTS} mutants: {valid} valid, {simulated} simulated");
}
