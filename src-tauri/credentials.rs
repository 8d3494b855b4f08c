//! The hub token, kept in the OS credential store — Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows — under service `app.pressroom.desktop` and an account derived
//! from the data dir, so profiles stay apart. Where no store answers: an owner-only file in the
//! data dir, and a note in the settings view says so.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::private_file;

pub const SERVICE: &str = "app.pressroom.desktop";
const FALLBACK_FILE: &str = "token";

pub struct Credentials {
    place: Place,
}

enum Place {
    Store(keyring::Entry),
    /// The fallback file; none without a data dir, where nothing can be kept.
    File(Option<PathBuf>),
}

impl Credentials {
    /// The credential store if it answers, else the fallback file in `data_dir`, with the token
    /// kept there (read once: the probe is the read). A token left in the file by a session
    /// without a store moves into the store.
    pub fn open(account: &str, data_dir: Option<&Path>) -> (Credentials, Result<Option<String>>) {
        let fallback = data_dir.map(|dir| dir.join(FALLBACK_FILE));
        let probed = keyring::Entry::new(SERVICE, account)
            .and_then(|entry| read_entry(&entry).map(|stored| (entry, stored)));
        let (entry, stored) = match probed {
            Ok(probed) => probed,
            Err(error) => {
                tracing::warn!(%error, "no credential store: the token is kept in an owner-only file");
                let credentials = Credentials { place: Place::File(fallback.clone()) };
                let token = fallback.as_deref().map_or(Ok(None), read_file);
                return (credentials, token);
            }
        };
        let credentials = Credentials { place: Place::Store(entry) };
        let left = fallback.as_deref().and_then(|file| Some((file, read_file(file).ok()??)));
        let Some((file, token)) = left else { return (credentials, Ok(stored)) };
        match credentials.set_token(Some(&token)) {
            Ok(()) => {
                let _ = std::fs::remove_file(file);
                tracing::info!("moved the token from its file into the credential store");
            }
            Err(error) => tracing::warn!(%error, "could not move the token into the credential store"),
        }
        (credentials, Ok(Some(token)))
    }

    #[cfg(test)]
    fn file_only(data_dir: &Path) -> Credentials {
        Credentials { place: Place::File(Some(data_dir.join(FALLBACK_FILE))) }
    }

    pub fn in_store(&self) -> bool {
        matches!(self.place, Place::Store(_))
    }

    #[cfg(test)]
    fn token(&self) -> Result<Option<String>> {
        match &self.place {
            Place::Store(entry) => Ok(read_entry(entry)?),
            Place::File(Some(path)) => read_file(path),
            Place::File(None) => Ok(None),
        }
    }

    /// Keeps `token`, or forgets the kept one for `None`.
    pub fn set_token(&self, token: Option<&str>) -> Result<()> {
        match (&self.place, token) {
            (Place::Store(entry), Some(token)) => entry.set_password(token)?,
            (Place::Store(entry), None) => match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(error) => return Err(error.into()),
            },
            (Place::File(Some(path)), Some(token)) => private_file::write(path, token.as_bytes())?,
            (Place::File(Some(path)), None) => match std::fs::remove_file(path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
                _ => {}
            },
            (Place::File(None), Some(_)) => {
                return Err(
                    std::io::Error::other("no credential store and no data dir to keep the token in").into()
                )
            }
            (Place::File(None), None) => {}
        }
        Ok(())
    }
}

/// The entry's token; `None` when the store has no entry for it.
fn read_entry(entry: &keyring::Entry) -> keyring::Result<Option<String>> {
    match entry.get_password() {
        Ok(token) => Ok(Some(token)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(error),
    }
}

fn read_file(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(token) => Ok(Some(token.trim().to_owned()).filter(|t| !t.is_empty())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_file_keeps_and_forgets_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = Credentials::file_only(dir.path());
        assert_eq!(credentials.token().unwrap(), None);
        credentials.set_token(Some("s3cret")).unwrap();
        assert_eq!(credentials.token().unwrap().as_deref(), Some("s3cret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FALLBACK_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        credentials.set_token(None).unwrap();
        credentials.set_token(None).unwrap();
        assert_eq!(credentials.token().unwrap(), None);
    }
}
