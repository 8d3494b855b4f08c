//! The Postgres and Redis that `scripts/test` starts for the run (`scripts/test-services`),
//! found through the environment. Under `CI` a missing service fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

fn service(variable: &str, what: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{what} is missing: run the tests through scripts/test"
            );
            eprintln!("skipping: {what} is not running ({variable} unset; scripts/test starts it)");
            None
        }
    }
}

/// A new, empty database on the test Postgres server.
pub async fn postgres_database() -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = service("PRESSROOM_TEST_POSTGRES", "Postgres")?;
    let name = format!("pressroom_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

pub fn redis() -> Option<String> {
    service("PRESSROOM_TEST_REDIS", "Redis")
}
