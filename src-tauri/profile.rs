//! One profile per data dir: the single-instance id is derived from it, so a second launch with
//! the same data dir hands over to the first, while profiles (and parallel tests) stay apart.
//! An instance also holds the data dir's lock file until its process ends, so a launch made while
//! the previous instance is still saving its last view reads that view, not the one before it.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// `identifier` plus a short hash of the canonical data dir, usable as a D-Bus name.
pub fn instance_id(identifier: &str, data_dir: &Path) -> String {
    let dir = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    // A D-Bus name element must not start with a digit.
    format!("{identifier}.p{hex}")
}

const LOCK_FILE: &str = "instance.lock";

/// The data dir's lock, held for the life of the process (the OS releases it at exit).
pub struct DataDirLock {
    _file: File,
}

/// Takes the data dir's lock, waiting up to `patience` for an exiting instance to release it;
/// `None` (after a warning) if it is still held then, or cannot be taken at all.
pub fn lock_data_dir(dir: &Path, patience: Duration) -> Option<DataDirLock> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|error| tracing::warn!(%error, "cannot open the data dir's lock file"))
        .ok()?;
    let deadline = Instant::now() + patience;
    loop {
        match file.try_lock() {
            Ok(()) => return Some(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => {
                tracing::warn!(%error, "the data dir stays locked by another instance; going on");
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_waits_for_its_holder_and_is_free_once_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_data_dir(dir.path(), Duration::ZERO).expect("a free lock is taken");
        assert!(lock_data_dir(dir.path(), Duration::from_millis(50)).is_none(), "held: not taken");
        let released = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        assert!(lock_data_dir(dir.path(), Duration::from_secs(5)).is_some(), "taken once released");
        released.join().unwrap();
    }

    #[test]
    fn the_same_dir_gives_the_same_id_and_another_dir_another() {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        let id = instance_id("app.pressroom.desktop", one.path());
        assert_eq!(id, instance_id("app.pressroom.desktop", &one.path().join(".")));
        assert_ne!(id, instance_id("app.pressroom.desktop", two.path()));
        assert!(
            id.starts_with("app.pressroom.desktop.p") && id.len() == "app.pressroom.desktop.p".len() + 16
        );
    }
}
