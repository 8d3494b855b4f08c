//! A stable-toolchain fuzz harness for the hub's network parsers: the cable's command handler,
//! the write routes' bodies up to validation, and the Redis message opener. Mutation-based
//! (seed inputs, byte flips, inserts of JSON and protocol tokens, deletions, splices) with a
//! seeded generator, so a run is reproducible; each input is checked for panics and for the
//! invariants the hub relies on. A failing input is written to `fuzz-crash-<target>-<n>`.
//!
//! `cargo run --release -p pressroom-hub --example fuzz -- [EXECUTIONS per target] [SEED]`

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use pressroom_hub::api::bodies;
use pressroom_hub::cable::{Connection, MAX_IDENTIFIER_BYTES};
use pressroom_hub::delivery::fanout::Fanout;
use pressroom_hub::signed::Signer;
use pressroom_protocol::ServerFrame;

/// xorshift64*: fast, and enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "-1",
    "0",
    "1e999",
    "9223372036854775808",
    "\"channel\"",
    "\"AnalyticsChannel\"",
    "\"identifier\"",
    "\"command\"",
    "\"subscribe\"",
    "\"unsubscribe\"",
    "\"message\"",
    "\"data\"",
    "\"customer\"",
    "\"quantity\"",
    "\"book_id\"",
    "\"book_title\"",
    "\"due_date\"",
    "\"2026-02-30\"",
    "\"isbn\"",
    "\"978-0-441-01359-3\"",
    "\"reason\"",
    "\"title\"",
    "\"format\"",
    "\"finish\"",
    "\"job_order_id\"",
    " ",
    "\u{0}",
    "é",
    "v1 ",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, rng.next() as u8),
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            3 if !input.is_empty() => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                input.splice(at..at, other[from..].iter().copied());
            }
            _ => {
                // Grow a run, for the size limits.
                let byte = *input.get(at).unwrap_or(&b' ');
                let n = rng.below(2048);
                input.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
    }
    input
}

fn cable_seeds() -> Vec<Vec<u8>> {
    [
        r#"{"command":"subscribe","identifier":"{\"channel\":\"AnalyticsChannel\"}"}"#,
        r#"{"command":"unsubscribe","identifier":"{\"channel\":\"AnalyticsChannel\"}"}"#,
        r#"{"command":"message","identifier":"{\"channel\":\"AnalyticsChannel\"}","data":"{\"action\":\"x\"}"}"#,
        r#"{"command":"subscribe","identifier":"{ \"channel\" : \"ChatChannel\", \"n\": 1 }"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn body_seeds() -> Vec<Vec<u8>> {
    [
        r#"{"customer":"Acme","quantity":3,"book_id":1,"due_date":"2027-01-31"}"#,
        r#"{"customer":"Acme","quantity":1,"book_title":"Dune"}"#,
        r#"{"title":"Dune","isbn":"978-0-441-01359-3","author":"Herbert"}"#,
        r#"{"book_id":1,"format":"hardcover","finish":"matte"}"#,
        r#"{"job_order_id":7}"#,
        r#"{"reason":"paper jam"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// Checks one cable frame; an answer never echoes more than an identifier's limit, and only the
/// analytics channel is confirmed.
fn cable(connection: &mut Connection, input: &[u8]) -> Result<bool, String> {
    let text = String::from_utf8_lossy(input);
    let answer = connection.handle(&text);
    let confirmed = matches!(answer, Some(ServerFrame::ConfirmSubscription { .. }));
    match answer {
        Some(ServerFrame::ConfirmSubscription { identifier }) => {
            let value: serde_json::Value = serde_json::from_str(&identifier).map_err(|e| e.to_string())?;
            if value != serde_json::json!({"channel": "AnalyticsChannel"})
                || identifier.len() > MAX_IDENTIFIER_BYTES
            {
                return Err(format!("confirmed {identifier:?}"));
            }
        }
        Some(ServerFrame::RejectSubscription { identifier }) if identifier.len() > MAX_IDENTIFIER_BYTES => {
            return Err(format!("echoed {} bytes", identifier.len()));
        }
        _ => {}
    }
    Ok(confirmed)
}

fn clean(text: &str, what: &str) -> Result<(), String> {
    if text.trim().is_empty() || text.contains('\0') || text.chars().count() > 500 || text.trim() != text {
        return Err(format!("{what} accepted as {text:?}"));
    }
    Ok(())
}

/// Checks one body against every write route's validation; what is accepted is storable.
/// True when some route accepted it.
fn body(input: &[u8]) -> Result<bool, String> {
    let Ok(fields) = bodies::fields(input) else { return Ok(false) };
    drop(fields);
    let map = || bodies::fields(input).expect("parsed once already");
    let mut accepted = false;
    if let Ok(order) = bodies::new_job_order(map()) {
        accepted = true;
        clean(&order.customer, "customer")?;
        if order.quantity < 1 {
            return Err(format!("quantity {}", order.quantity));
        }
        if let pressroom_hub::domain::BookRef::Title(title) = &order.book {
            clean(title, "book_title")?;
        }
    }
    if let Ok(book) = bodies::new_book(map()) {
        accepted = true;
        clean(&book.title, "title")?;
        if let Some(isbn) = &book.isbn {
            if !(isbn.len() == 10 || isbn.len() == 13) {
                return Err(format!("isbn {isbn:?}"));
            }
        }
    }
    if let Ok(cover) = bodies::new_cover(map()) {
        accepted = true;
        clean(&cover.format, "format")?;
        clean(&cover.finish, "finish")?;
    }
    if let Ok(id) = bodies::export_job_order(map()) {
        accepted = true;
        if id < 1 {
            return Err(format!("job_order_id {id}"));
        }
    }
    if let Ok(reason) = bodies::fail_reason(map()) {
        accepted = true;
        clean(&reason, "reason")?;
    }
    Ok(accepted)
}

/// Runs `check` over `executions` mutated inputs (it says whether an input was accepted);
/// returns the number of failures.
fn run(
    name: &str,
    executions: u64,
    seed: u64,
    seeds: &[Vec<u8>],
    mut check: impl FnMut(&[u8]) -> Result<bool, String>,
) -> u64 {
    let mut rng = Rng(seed | 1);
    let (mut failures, mut accepted) = (0, 0u64);
    let started = Instant::now();
    for n in 0..executions {
        let input = mutate(&mut rng, seeds);
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let failed = match outcome {
            Ok(Ok(true)) => {
                accepted += 1;
                continue;
            }
            Ok(Ok(false)) => continue,
            Ok(Err(why)) => why,
            Err(_) => "panicked".to_owned(),
        };
        failures += 1;
        eprintln!("{name}: input {n} failed: {failed}");
        let _ = std::fs::write(format!("fuzz-crash-{name}-{n}"), &input);
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = executions as f64 / secs;
    println!("{name}: {executions} executions, {accepted} accepted, {failures} failures, {secs:.1} s ({rate:.0}/s)");
    failures
}

fn main() {
    let mut args = std::env::args().skip(1);
    let executions: u64 = args.next().map_or(10_000_000, |n| n.parse().expect("a number of executions"));
    let seed: u64 = args.next().map_or(0x5eed, |n| n.parse().expect("a seed"));
    // Panics are caught and counted; their default message would flood the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let cable_thread = std::thread::spawn(move || {
        let fanout = Fanout::new(8);
        let mut connection = Connection::new(fanout.clone());
        let mut n = 0u32;
        run("cable", executions, seed, &cable_seeds(), |input| {
            n += 1;
            if n.is_multiple_of(64) {
                connection = Connection::new(fanout.clone()); // so the per-connection cap is not the only answer
            }
            cable(&mut connection, input)
        })
    });
    let bodies_thread = std::thread::spawn(move || run("rest-bodies", executions, seed, &body_seeds(), body));
    let signer = Signer::new("a fuzzing secret, 32 characters", "epoch").expect("a valid secret");
    let mut redis_seeds = body_seeds();
    redis_seeds.push(br#"v1 1 0000000000000000000000000000000000000000000000000000000000000000 {"event":"x","data":{},"seq":1,"epoch":"epoch"}"#.to_vec());
    let redis = run("redis-messages", executions, seed, &redis_seeds, |input| match signer.open(input) {
        Ok(event) => Err(format!("a forged message opened: {event:?}")),
        Err(_) => Ok(false),
    });
    let failures = cable_thread.join().expect("cable fuzzing ran")
        + bodies_thread.join().expect("body fuzzing ran")
        + redis;
    std::process::exit(i32::from(failures > 0));
}
