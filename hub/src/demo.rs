//! The demo generator: realistic activity — new titles with covers, job orders, exports that
//! start and later complete or fail — written through the same domain path as the REST API, so
//! what clients see is exactly what real writes broadcast.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use crate::domain::{BookRef, Domain, NewBook, NewCover, NewJobOrder};
use crate::HubError;

const TITLES: [&str; 12] = [
    "The Salt Road",
    "A Field Guide to Moths",
    "Letters from Lisbon",
    "Practical Typesetting",
    "The Quiet Harbour",
    "Night Trains of Europe",
    "Bread & Butter",
    "Atlas of Small Islands",
    "The Glassmaker's Daughter",
    "Winter Gardens",
    "A Short History of Ink",
    "Mountains at Dusk",
];
const AUTHORS: [&str; 6] =
    ["Ana Ferreira", "Tom Okafor", "Mei Lin", "Jonas Berg", "Sara Haddad", "Luca Romano"];
const CUSTOMERS: [&str; 8] = [
    "Harbour Books",
    "Moth & Lamp Press",
    "City Library",
    "Northwind School",
    "Atlas Retail",
    "Paper Crane Co.",
    "Foxglove Bookshop",
    "University Press Store",
];
const FORMATS: [&str; 3] = ["hardcover", "paperback", "ebook"];
const FINISHES: [&str; 3] = ["matte", "gloss", "soft-touch"];
const FAILURES: [&str; 4] =
    ["bleed too small", "missing fonts in PDF", "image below 300 dpi", "page count not divisible by 4"];

/// What the generator does next.
#[derive(Debug, Clone)]
enum Step {
    Book(NewBook),
    Cover(NewCover),
    JobOrder(NewJobOrder),
    StartExport(i64),
    CompleteExport(i64),
    FailExport(i64, String),
}

/// Chooses steps from what exists so far; the randomness is injected so a seed replays a run.
struct Generator {
    rng: StdRng,
    books: Vec<i64>,
    job_orders: VecDeque<i64>,
    running_exports: VecDeque<i64>,
    titles_used: usize,
}

impl Generator {
    fn new(rng: StdRng) -> Self {
        Generator {
            rng,
            books: Vec::new(),
            job_orders: VecDeque::new(),
            running_exports: VecDeque::new(),
            titles_used: 0,
        }
    }

    fn next_step(&mut self) -> Step {
        let roll = self.rng.random_range(0..100);
        let rng = &mut self.rng;
        match roll {
            _ if self.books.is_empty() || (roll < 6 && self.titles_used < TITLES.len() * 4) => self.book(),
            0..=11 => Step::Cover(NewCover {
                book_id: *self.books.choose(rng).expect("books exist"),
                format: (*FORMATS.choose(rng).expect("formats")).to_owned(),
                finish: (*FINISHES.choose(rng).expect("finishes")).to_owned(),
            }),
            12..=31 if !self.job_orders.is_empty() => {
                Step::StartExport(self.job_orders[rng.random_range(0..self.job_orders.len())])
            }
            32..=51 if !self.running_exports.is_empty() => {
                let id = self.running_exports.pop_front().expect("an export runs");
                if rng.random_ratio(1, 6) {
                    Step::FailExport(id, (*FAILURES.choose(rng).expect("reasons")).to_owned())
                } else {
                    Step::CompleteExport(id)
                }
            }
            _ => self.job_order(),
        }
    }

    fn book(&mut self) -> Step {
        let title = TITLES[self.titles_used % TITLES.len()];
        let edition = self.titles_used / TITLES.len();
        self.titles_used += 1;
        Step::Book(NewBook {
            title: if edition == 0 { title.to_owned() } else { format!("{title} ({} ed.)", edition + 1) },
            isbn: Some(random_isbn(&mut self.rng)),
            author: AUTHORS.choose(&mut self.rng).map(|a| (*a).to_owned()),
        })
    }

    fn job_order(&mut self) -> Step {
        let rng = &mut self.rng;
        Step::JobOrder(NewJobOrder {
            book: self.books.choose(rng).map_or(BookRef::Title(TITLES[0].to_owned()), |id| BookRef::Id(*id)),
            customer: (*CUSTOMERS.choose(rng).expect("customers")).to_owned(),
            quantity: rng.random_range(1..=20) * 25,
            due_date: None,
        })
    }

    async fn take(&mut self, domain: &Domain) -> Result<(), HubError> {
        match self.next_step() {
            Step::Book(book) => self.books.push(domain.create_book(book).await?.id),
            Step::Cover(cover) => drop(domain.create_cover(cover).await?),
            Step::JobOrder(order) => {
                self.job_orders.push_back(domain.create_job_order(order).await?.id);
                if self.job_orders.len() > 50 {
                    self.job_orders.pop_front();
                }
            }
            Step::StartExport(job_order) => {
                self.running_exports.push_back(domain.start_print_export(job_order).await?.id)
            }
            Step::CompleteExport(id) => drop(domain.complete_print_export(id).await?),
            Step::FailExport(id, reason) => drop(domain.fail_print_export(id, reason).await?),
        }
        Ok(())
    }
}

/// A valid ISBN-13 in the 979 range (unassigned to real books by this generator's choice).
fn random_isbn(rng: &mut StdRng) -> String {
    let mut digits: Vec<u32> = vec![9, 7, 9];
    digits.extend((0..9).map(|_| rng.random_range(0..10)));
    let sum: u32 = digits.iter().enumerate().map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 }).sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from_digit(*d, 10).expect("a digit")).collect()
}

/// Gives an empty database a day of job orders, so the charts have a history from the start: the
/// last hour about as busy as `rate` events per second makes it, earlier hours a fraction of
/// that, quieter at night. Returns how many orders it placed (none when orders exist already).
pub async fn seed_history(domain: &Domain, rate: f64, now: DateTime<Utc>) -> Result<u64, HubError> {
    if domain.summary().await?.totals.job_orders > 0 {
        return Ok(0);
    }
    let mut generator = Generator::new(StdRng::from_os_rng());
    // About two in five live steps are job orders.
    let per_minute = rate * 60.0 * 0.4;
    let mut placed = 0;
    // 23 hours, so every order falls in the 24 hourly buckets the chart shows.
    for minutes_ago in (1..23 * 60).rev() {
        let at = now - TimeDelta::minutes(minutes_ago);
        let busy = if minutes_ago <= 60 { 1.0 } else { 0.05 * daytime(at) };
        let count = (per_minute * busy * generator.rng.random_range(0.6..1.4)).round() as u32;
        for n in 0..count {
            let Step::JobOrder(mut order) = generator.job_order() else { unreachable!("a job order") };
            // Four titles, each created (at its first order's time) by its first order.
            order.book = BookRef::Title(TITLES[generator.rng.random_range(0..4)].to_owned());
            let at = at + TimeDelta::milliseconds(i64::from(n) * 60_000 / i64::from(count));
            domain.create_job_order_at(order, at).await?;
            placed += 1;
        }
    }
    Ok(placed)
}

/// How busy a print shop is at this time of day (UTC): 0.2 at night to 1.0 mid-afternoon.
fn daytime(at: DateTime<Utc>) -> f64 {
    let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
    0.2 + 0.8 * (-((hour - 14.0) / 4.0).powi(2)).exp()
}

/// Writes `rate` events per second until `stop` is cancelled.
pub async fn run(domain: Domain, rate: f64, stop: CancellationToken) {
    let mut generator = Generator::new(StdRng::from_os_rng());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = generator.take(&domain).await {
            // Only a clash of random ISBNs can fail here; the next step simply goes on.
            tracing::warn!(%error, "demo write refused");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalise_isbn;

    #[test]
    fn random_isbns_are_valid() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let isbn = random_isbn(&mut rng);
            assert_eq!(normalise_isbn(&isbn), Ok(isbn));
        }
    }

    #[test]
    fn a_run_produces_every_kind_of_step() {
        let mut generator = Generator::new(StdRng::seed_from_u64(42));
        let mut seen = [false; 6];
        for n in 0..400 {
            let step = generator.next_step();
            // Pretend each write succeeded with id n, as the domain would.
            let index = match step {
                Step::Book(_) => {
                    generator.books.push(n);
                    0
                }
                Step::Cover(_) => 1,
                Step::JobOrder(_) => {
                    generator.job_orders.push_back(n);
                    2
                }
                Step::StartExport(_) => {
                    generator.running_exports.push_back(n);
                    3
                }
                Step::CompleteExport(_) => 4,
                Step::FailExport(..) => 5,
            };
            seen[index] = true;
        }
        assert_eq!(seen, [true; 6]);
    }
}
