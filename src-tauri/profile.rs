//! One profile per data dir: the single-instance id is derived from it, so a second launch with
//! the same data dir hands over to the first, while profiles (and parallel tests) stay apart.

use std::path::Path;

use sha2::{Digest, Sha256};

/// `identifier` plus a short hash of the canonical data dir, usable as a D-Bus name.
pub fn instance_id(identifier: &str, data_dir: &Path) -> String {
    let dir = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    // A D-Bus name element must not start with a digit.
    format!("{identifier}.p{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
