//! The demo generator: job orders at a steady rate, written through the same domain path as
//! the REST API, so what clients see is exactly what a real write broadcasts.

use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::domain::{BookRef, Domain, NewJobOrder};

const TITLES: [&str; 8] = [
    "The Salt Road",
    "A Field Guide to Moths",
    "Letters from Lisbon",
    "Practical Typesetting",
    "The Quiet Harbour",
    "Night Trains of Europe",
    "Bread & Butter",
    "Atlas of Small Islands",
];
const CUSTOMERS: [&str; 6] = [
    "Harbour Books",
    "Moth & Lamp Press",
    "City Library",
    "Northwind School",
    "Atlas Retail",
    "Paper Crane Co.",
];

/// Creates job orders at `rate` per second until `stop` is cancelled.
pub async fn run(domain: Domain, rate: f64, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let order = {
            let mut rng = rand::rng();
            NewJobOrder {
                book: BookRef::Title((*TITLES.choose(&mut rng).expect("titles")).to_owned()),
                customer: (*CUSTOMERS.choose(&mut rng).expect("customers")).to_owned(),
                quantity: rng.random_range(1..=12) * 25,
                due_date: None,
            }
        };
        if let Err(error) = domain.create_job_order(order).await {
            tracing::error!(%error, "demo write failed");
        }
    }
}
