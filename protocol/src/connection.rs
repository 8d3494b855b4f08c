//! The connection states the dashboard shows, in the contract's words.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Live,
    /// Waiting to try again: this is retry number `attempt`, due `retry_in_ms` after the state
    /// was emitted.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
    },
}

impl ConnectionState {
    /// The word shown on screen.
    pub fn label(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "Connecting",
            ConnectionState::Live => "Live",
            ConnectionState::Reconnecting { .. } => "Reconnecting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialise_with_their_details() {
        let state = ConnectionState::Reconnecting { attempt: 2, retry_in_ms: 1500 };
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            r#"{"state":"reconnecting","attempt":2,"retry_in_ms":1500}"#
        );
        assert_eq!(serde_json::to_string(&ConnectionState::Live).unwrap(), r#"{"state":"live"}"#);
        assert_eq!(state.label(), "Reconnecting");
    }
}
