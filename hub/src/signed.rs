//! Hub-to-hub messages on Redis, authenticated: `v1 <seq> <hmac> <event json>`, the HMAC-SHA256
//! (hex) keyed with `--redis-secret` over the epoch, the seq and the JSON. Anyone who can
//! `PUBLISH` on Redis could otherwise inject events past all validation, or claim a seq and
//! make the genuine event with it a "duplicate".

use hmac::{Hmac, Mac};
use pressroom_protocol::Event;
use sha2::Sha256;

use crate::HubError;

/// The shortest secret accepted: a short one could be guessed offline from one message.
pub const MIN_SECRET_CHARS: usize = 16;

/// Signs and checks messages for one epoch.
#[derive(Clone)]
pub struct Signer {
    key: Hmac<Sha256>,
    epoch: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.epoch)
    }
}

/// Why a message was dropped.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    BadSignature,
    /// Signed, but its event names another seq or epoch than the envelope.
    Mismatch,
}

impl Signer {
    pub fn new(secret: &str, epoch: &str) -> Result<Self, HubError> {
        if secret.trim().chars().count() < MIN_SECRET_CHARS {
            return Err(HubError::Config(format!(
                "--redis-secret / PRESSROOM_REDIS_SECRET must be at least {MIN_SECRET_CHARS} characters"
            )));
        }
        let key =
            Hmac::<Sha256>::new_from_slice(secret.trim().as_bytes()).expect("HMAC takes any key length");
        Ok(Signer { key, epoch: epoch.to_owned() })
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn mac(&self, seq: u64, json: &str) -> Hmac<Sha256> {
        let mut mac = self.key.clone();
        mac.update(self.epoch.as_bytes());
        mac.update(b"\n");
        mac.update(seq.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(json.as_bytes());
        mac
    }

    pub fn sign(&self, event: &Event) -> String {
        let json = serde_json::to_string(event).expect("events serialise");
        let seq = event.seq.unwrap_or_default();
        let tag = hex(&self.mac(seq, &json).finalize().into_bytes());
        format!("v1 {seq} {tag} {json}")
    }

    /// The event of a genuine message for this epoch.
    pub fn open(&self, message: &[u8]) -> Result<Event, Rejected> {
        let text = std::str::from_utf8(message).map_err(|_| Rejected::Malformed)?;
        let mut parts = text.splitn(4, ' ');
        let (Some("v1"), Some(seq), Some(tag), Some(json)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Rejected::Malformed);
        };
        let seq: u64 = seq.parse().map_err(|_| Rejected::Malformed)?;
        let tag = unhex(tag).ok_or(Rejected::Malformed)?;
        self.mac(seq, json).verify_slice(&tag).map_err(|_| Rejected::BadSignature)?;
        let event: Event = serde_json::from_str(json).map_err(|_| Rejected::Malformed)?;
        if event.seq != Some(seq) || event.epoch.as_deref() != Some(self.epoch.as_str()) {
            return Err(Rejected::Mismatch);
        }
        Ok(event)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;

    fn event(seq: u64, epoch: &str) -> Event {
        let mut event = Event::new(EventKind::BookCreated, serde_json::json!({"id": 1}));
        event.seq = Some(seq);
        event.epoch = Some(epoch.into());
        event
    }

    #[test]
    fn a_signed_message_opens_and_any_change_is_refused() {
        let signer = Signer::new("a secret of sixteen+", "e1").unwrap();
        let message = signer.sign(&event(7, "e1"));
        assert_eq!(signer.open(message.as_bytes()).unwrap(), event(7, "e1"));
        let other_key = Signer::new("another secret, long", "e1").unwrap();
        assert_eq!(other_key.open(message.as_bytes()), Err(Rejected::BadSignature));
        let other_epoch = Signer::new("a secret of sixteen+", "e2").unwrap();
        assert_eq!(other_epoch.open(message.as_bytes()), Err(Rejected::BadSignature));
        let bumped = message.replacen("v1 7 ", "v1 8 ", 1);
        assert_eq!(signer.open(bumped.as_bytes()), Err(Rejected::BadSignature));
        let unsigned = serde_json::to_string(&event(7, "e1")).unwrap();
        assert_eq!(signer.open(unsigned.as_bytes()), Err(Rejected::Malformed), "the old unsigned shape");
        let lying = Signer::new("a secret of sixteen+", "e1").unwrap();
        let json = serde_json::to_string(&event(9, "e1")).unwrap();
        let tag = hex(&lying.mac(7, &json).finalize().into_bytes());
        assert_eq!(signer.open(format!("v1 7 {tag} {json}").as_bytes()), Err(Rejected::Mismatch));
    }

    #[test]
    fn short_secrets_are_refused() {
        let error = Signer::new("short", "e").unwrap_err().to_string();
        assert!(error.contains("PRESSROOM_REDIS_SECRET"), "{error}");
        assert!(Signer::new("               x", "e").is_err(), "whitespace does not count");
    }
}
