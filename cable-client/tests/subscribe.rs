//! `subscribe` against a scripted server: what it sends, and each way it can end.

use futures_util::{SinkExt, StreamExt};
use pressroom_cable_client::tungstenite::handshake::server::{Request, Response};
use pressroom_cable_client::tungstenite::http::HeaderValue;
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::tungstenite::Message;
use pressroom_cable_client::{connect, request, subscribe, Error};
use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL, SUBPROTOCOL};
use pressroom_protocol::ClientCommand;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// What the scripted server sends after the upgrade, frame by frame; `None` closes the socket.
/// Reports the headers it saw and the commands it received.
async fn server(
    script: Vec<Option<String>>,
) -> (String, oneshot::Receiver<(Option<String>, Vec<ClientCommand>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/cable", listener.local_addr().unwrap());
    let (report, reported) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut authorization = None;
        // The callback's type is tungstenite's, error response and all.
        #[allow(clippy::result_large_err)]
        let callback = |request: &Request, mut response: Response| {
            authorization = request.headers().get("authorization").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(request.headers()["sec-websocket-protocol"], SUBPROTOCOL);
            response.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL));
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback).await.unwrap();
        let mut commands = Vec::new();
        for step in script {
            match step {
                Some(frame) => {
                    let subscribe_next = frame.contains("confirm") || frame.contains("reject");
                    if subscribe_next {
                        // Answer only once the client has subscribed.
                        while let Some(Ok(message)) = ws.next().await {
                            if let Message::Text(text) = message {
                                commands.push(ClientCommand::parse(&text).unwrap());
                                break;
                            }
                        }
                    }
                    ws.send(Message::Text(frame.into())).await.unwrap();
                }
                None => {
                    let _ = ws.close(None).await;
                    break;
                }
            }
        }
        let _ = report.send((authorization, commands));
        // Keep the socket open until the client is done with it.
        while let Some(Ok(_)) = ws.next().await {}
    });
    (url, reported)
}

async fn run(script: &[&str], close: bool) -> (Result<(), Error>, Option<String>, Vec<ClientCommand>) {
    let mut script: Vec<Option<String>> = script.iter().map(|f| Some((*f).to_owned())).collect();
    if close {
        script.push(None);
    }
    let (url, reported) = server(script).await;
    let (mut socket, response) =
        connect(request(&url, Some("t0ken")).unwrap(), WebSocketConfig::default(), true).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], SUBPROTOCOL);
    let result = subscribe(&mut socket, ANALYTICS_CHANNEL).await;
    let _ = socket.close(None).await;
    let (authorization, commands) = reported.await.unwrap();
    (result, authorization, commands)
}

fn confirm(channel: &str) -> String {
    let identifier = serde_json::to_string(&channel_identifier(channel)).unwrap();
    format!(r#"{{"identifier":{identifier},"type":"confirm_subscription"}}"#)
}

#[tokio::test]
async fn subscribes_once_welcomed_and_skips_pings() {
    let (result, authorization, commands) = run(
        &[
            r#"{"type":"ping","message":1}"#,
            r#"{"type":"welcome"}"#,
            r#"{"type":"ping","message":2}"#,
            &confirm(ANALYTICS_CHANNEL),
        ],
        false,
    )
    .await;
    result.unwrap();
    assert_eq!(authorization.as_deref(), Some("Bearer t0ken"));
    assert_eq!(commands, [ClientCommand::Subscribe { identifier: channel_identifier(ANALYTICS_CHANNEL) }]);
}

#[tokio::test]
async fn a_rejection_is_rejected() {
    let identifier = serde_json::to_string(&channel_identifier(ANALYTICS_CHANNEL)).unwrap();
    let reject = format!(r#"{{"identifier":{identifier},"type":"reject_subscription"}}"#);
    let (result, ..) = run(&[r#"{"type":"welcome"}"#, &reject], false).await;
    assert!(matches!(result, Err(Error::Rejected)), "{result:?}");
}

#[tokio::test]
async fn a_disconnect_frame_gives_its_reason() {
    let frame = r#"{"type":"disconnect","reason":"unauthorized","reconnect":false}"#;
    let (result, ..) = run(&[frame], true).await;
    assert!(matches!(&result, Err(Error::Disconnected { reason }) if reason == "unauthorized"), "{result:?}");
}

#[tokio::test]
async fn the_end_of_the_stream_is_closed() {
    let (result, ..) = run(&[r#"{"type":"welcome"}"#], true).await;
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
}
