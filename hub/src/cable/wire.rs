//! Server frames as the bytes that go on the socket. A server's frames are unmasked, so one
//! encoding serves every connection: a broadcast is framed once and written as is to each.

use bytes::Bytes;
use pressroom_protocol::ServerFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};

/// A complete, final text frame carrying `text`.
pub fn text(text: &str) -> Bytes {
    let frame = Frame::message(Bytes::copy_from_slice(text.as_bytes()), OpCode::Data(Data::Text), true);
    let mut wire = Vec::with_capacity(frame.len());
    frame.format(&mut wire).expect("writing to a Vec cannot fail");
    wire.into()
}

/// `frame` as its JSON in a text frame.
pub fn server_frame(frame: &ServerFrame) -> Bytes {
    text(&frame.to_json())
}

/// A close frame with `code` as its status, or none (as the hub sends when it closes first).
pub fn close(code: Option<u16>) -> Bytes {
    let frame = Frame::close(code.map(|code| CloseFrame { code: code.into(), reason: "".into() }));
    let mut wire = Vec::with_capacity(frame.len());
    frame.format(&mut wire).expect("writing to a Vec cannot fail");
    wire.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_frame_is_final_unmasked_with_its_length() {
        assert_eq!(&text("hi")[..], b"\x81\x02hi");
        let long = "x".repeat(300);
        let wire = text(&long);
        assert_eq!(&wire[..4], [0x81, 126, 0x01, 0x2c], "16-bit length for 126..=65535 bytes");
        assert_eq!(&wire[4..], long.as_bytes());
    }

    #[test]
    fn a_close_frame_carries_its_status_code_if_any() {
        assert_eq!(&close(None)[..], [0x88, 0x00]);
        assert_eq!(&close(Some(1001))[..], [0x88, 0x02, 0x03, 0xe9]);
    }
}
