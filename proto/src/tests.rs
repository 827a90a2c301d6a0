use super::*;

#[test]
fn request_round_trips_through_the_wire_form() {
    let frame = ClientFrame {
        id: 42,
        request: Request::Send(SendRequest {
            to: Target::User(7),
            client_msg_id: "c-1".into(),
            content: Content::text("hi"),
            reply_to: Some(3),
            mentions: vec![],
            mention_all: false,
        }),
    };
    let text = frame.encode();
    assert_eq!(
        text,
        r#"{"id":42,"type":"send","data":{"to":{"user":7},"client_msg_id":"c-1","content":{"type":"text","text":"hi"},"reply_to":3}}"#
    );
    assert_eq!(ClientFrame::decode(&text).unwrap(), frame);
}

#[test]
fn unit_requests_need_no_data() {
    let frame = ClientFrame::decode(r#"{"id":1,"type":"ping"}"#).unwrap();
    assert_eq!(frame.request, Request::Ping);
    assert_eq!(
        ClientFrame {
            id: 1,
            request: Request::Sync
        }
        .encode(),
        r#"{"id":1,"type":"sync"}"#
    );
}

#[test]
fn decode_errors_are_typed() {
    let e = ClientFrame::decode("{nope").unwrap_err();
    assert_eq!((e.id, e.error.code), (None, ErrorCode::MalformedFrame));

    let e = ClientFrame::decode(r#"{"type":"ping"}"#).unwrap_err();
    assert_eq!((e.id, e.error.code), (None, ErrorCode::MalformedFrame));

    let e = ClientFrame::decode(r#"{"id":5,"type":"fly"}"#).unwrap_err();
    assert_eq!((e.id, e.error.code), (Some(5), ErrorCode::UnknownType));

    let e = ClientFrame::decode(r#"{"id":6,"type":"mark_read","data":{"seq":"x"}}"#).unwrap_err();
    assert_eq!((e.id, e.error.code), (Some(6), ErrorCode::BadRequest));

    let e = ClientFrame::decode(r#"[1,2]"#).unwrap_err();
    assert_eq!(e.error.code, ErrorCode::MalformedFrame);
}

#[test]
fn every_kind_is_listed() {
    // Each listed kind decodes as known (an empty body gives bad_request, never unknown_type).
    for kind in Request::KINDS {
        let text = format!(r#"{{"id":1,"type":"{kind}","data":{{}}}}"#);
        match ClientFrame::decode(&text) {
            Ok(f) => assert_eq!(f.request.kind(), *kind),
            Err(e) => assert_eq!(e.error.code, ErrorCode::BadRequest, "{kind}"),
        }
    }
}

#[test]
fn server_frames_decode() {
    let ok = encode_ok(
        3,
        &SendResponse {
            conversation_id: 1,
            seq: 2,
            created_at: 5,
            duplicate: false,
        },
    );
    match ServerFrame::decode(&ok).unwrap() {
        ServerFrame::Ok { id, body } => {
            assert_eq!(id, 3);
            let r: SendResponse = serde_json::from_str(body.get()).unwrap();
            assert_eq!(r.seq, 2);
        }
        other => panic!("{other:?}"),
    }
    let err = encode_error(Some(4), &WireError::new(ErrorCode::NotMember, "no"));
    assert_eq!(
        err,
        r#"{"id":4,"error":{"code":"not_member","message":"no"}}"#
    );
    assert!(matches!(
        ServerFrame::decode(&err).unwrap(),
        ServerFrame::Error { id: Some(4), .. }
    ));
    let ev = encode_event(&Event::Typing(TypingEvent {
        conversation_id: 1,
        user_id: 2,
    }));
    assert_eq!(
        ev,
        r#"{"event":"typing","data":{"conversation_id":1,"user_id":2}}"#
    );
    assert!(matches!(
        ServerFrame::decode(&ev).unwrap(),
        ServerFrame::Event(_)
    ));
}

#[test]
fn error_codes_have_stable_names() {
    for code in [
        ErrorCode::MalformedFrame,
        ErrorCode::RecallWindowPassed,
        ErrorCode::RateLimited,
    ] {
        assert_eq!(
            serde_json::to_value(code).unwrap(),
            serde_json::Value::String(code.as_str().into())
        );
    }
}

#[test]
fn close_codes_split_reconnect_from_stop() {
    assert!(close::should_reconnect(close::SLOW_CONSUMER));
    assert!(close::should_reconnect(close::SERVER_SHUTDOWN));
    assert!(!close::should_reconnect(close::SESSION_REVOKED));
    assert!(!close::should_reconnect(close::AUTH_FAILED));
}
