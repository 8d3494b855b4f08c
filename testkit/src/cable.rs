//! A raw Action Cable client for tests: frames in and out as the tests write them, each read
//! bounded by [`PROMPTLY`].

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::tungstenite::Message;
use pressroom_cable_client::Socket;
use pressroom_hub::RunningHub;
use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL};
use pressroom_protocol::{ClientCommand, ServerFrame};

use crate::PROMPTLY;

pub struct CableClient {
    pub ws: Socket,
    pub protocol: Option<String>,
}

impl CableClient {
    pub async fn connect(hub: &RunningHub) -> Self {
        Self::connect_url(&hub.cable_url()).await
    }

    /// Connects to any Action Cable server, offering the subprotocol as the Rails client does.
    pub async fn connect_url(url: &str) -> Self {
        let request = pressroom_cable_client::request(url, None).unwrap();
        let (ws, response) =
            pressroom_cable_client::connect(request, WebSocketConfig::default(), true).await.unwrap();
        let protocol =
            response.headers().get("Sec-WebSocket-Protocol").map(|v| v.to_str().unwrap().to_owned());
        CableClient { ws, protocol }
    }

    /// Connects, reads the welcome and subscribes to AnalyticsChannel until confirmed.
    pub async fn subscribed(hub: &RunningHub) -> Self {
        let mut client = Self::connect(hub).await;
        assert_eq!(client.next_frame().await, ServerFrame::Welcome);
        client.subscribe(ANALYTICS_CHANNEL).await;
        let identifier = channel_identifier(ANALYTICS_CHANNEL);
        assert_eq!(client.next_non_ping().await, ServerFrame::ConfirmSubscription { identifier });
        client
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn subscribe(&mut self, channel: &str) {
        self.send_command(ClientCommand::Subscribe { identifier: channel_identifier(channel) }).await;
    }

    pub async fn send_command(&mut self, command: ClientCommand) {
        self.send_text(&command.to_json()).await;
    }

    /// Reads until the server closes the connection, returning the text frames before it.
    pub async fn frames_until_close(&mut self) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(PROMPTLY, self.ws.next()).await.expect("closed in time") {
                None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return frames,
                Some(Ok(Message::Text(text))) => frames.push(ServerFrame::parse(&text).unwrap()),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next text frame, parsed; panics after [`PROMPTLY`].
    pub async fn next_frame(&mut self) -> ServerFrame {
        self.next_frame_within(PROMPTLY).await.expect("a frame arrives in time")
    }

    /// The next text frame within `limit`, or `None` if none came.
    pub async fn next_frame_within(&mut self, limit: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()?;
            match message.expect("the connection stays open").expect("no transport error") {
                Message::Text(text) => return Some(ServerFrame::parse(&text).expect("a well-formed frame")),
                Message::Close(frame) => panic!("connection closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame that is not a ping.
    pub async fn next_non_ping(&mut self) -> ServerFrame {
        loop {
            match self.next_frame().await {
                ServerFrame::Ping { .. } => continue,
                frame => return frame,
            }
        }
    }

    /// The next non-ping frame within `limit`, or `None`.
    pub async fn non_ping_within(&mut self, limit: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame_within(left).await? {
                ServerFrame::Ping { .. } => continue,
                frame => return Some(frame),
            }
        }
    }
}
