//! meet-sim's media rules at connect and the 1+7 video assignment (meet-side.md §5.b "Media
//! rules", test-matrix rows "9 video m-lines → 488", "2 or 4 simulcast layers / H.264 only →
//! 488", "assignment 1+7 with 2…12 participants", "speaker change ⇒ re-assignment").

#[path = "sim_support.rs"]
mod support;

use meet::protocol::video_assignment::VideoAssignmentFromClient;
use serde_json::{Value, json};
use support::{CODE, Fixture, gateway_offer};

fn one_plus_seven(request_id: i64) -> Value {
    serde_json::to_value(VideoAssignmentFromClient::set_assignment_1_plus_7(
        request_id, "layout-1",
    ))
    .unwrap()
}

/// The last `videoAssignment` resource in `messages`: `(canvasId, ssrc, mediaEntryId)`.
fn last_assignment(messages: &[Value]) -> Vec<(i64, i64, i64)> {
    let assignment = messages
        .iter()
        .rev()
        .find_map(|m| m["message"]["resources"][0]["videoAssignment"].as_object())
        .expect("an assignment");
    assignment["canvases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["canvasId"].as_i64().unwrap(),
                c["ssrc"].as_i64().unwrap_or(0),
                c["mediaEntryId"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

async fn media_entry(fx: &Fixture, pid: i64) -> i64 {
    fx.participant(pid).await["mediaEntryId"].as_i64().unwrap()
}

#[tokio::test]
async fn offers_breaking_the_media_rules_are_invalid_offer() {
    let fx = Fixture::new().await;
    let cases = [
        (
            gateway_offer(9, &["q", "h", "f"], "VP8"),
            "9 recvonly video m-lines",
        ),
        (gateway_offer(8, &["q", "h"], "VP8"), "has 2 layers"),
        (
            gateway_offer(8, &["a", "b", "c", "d"], "VP8"),
            "has 4 layers",
        ),
        (
            gateway_offer(8, &["q", "h", "f"], "H264"),
            "does not offer VP8",
        ),
    ];
    for (offer, expected) in cases {
        let reply = fx
            .connect_offer(CODE, Some(&fx.jwt(&fx.trusted)), &offer)
            .await;
        assert_eq!(reply.status, 400, "{}", reply.json);
        assert_eq!(reply.reason(), "INVALID_OFFER");
        assert!(reply.message().contains(expected), "{}", reply.message());
    }
    // nobody joined, and each refusal is in the log
    assert_eq!(fx.events("participant_joined").await.len(), 0);
    assert_eq!(fx.events("request_refused").await.len(), 4);
    // 8 videos and 3 layers is fine
    let ok = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
}

#[tokio::test]
async fn one_plus_seven_fills_at_most_8_canvases_with_2_to_12_participants() {
    for others in [1usize, 4, 7, 8, 11] {
        let fx = Fixture::new().await;
        let gateway = fx.join(&fx.trusted).await;
        let mut entries = Vec::new();
        for i in 0..others {
            let pid = fx.add_person(&format!("P{i}"), i == 0).await;
            entries.push(media_entry(&fx, pid).await);
        }
        let messages = fx
            .send_on(gateway, "video-assignment", one_plus_seven(1))
            .await;
        assert_eq!(
            messages[0]["message"]["response"]["status"]["code"], 0,
            "{messages:?}"
        );
        let canvases = last_assignment(&messages);
        assert_eq!(canvases.len(), 8, "one entry per canvas");
        let shown: Vec<i64> = canvases.iter().filter(|c| c.1 != 0).map(|c| c.2).collect();
        assert_eq!(shown.len(), others.min(8), "{others} others: {canvases:?}");
        let mut distinct = shown.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), shown.len(), "nobody twice");
        assert!(shown.iter().all(|e| entries.contains(e)), "only others");
        // with nobody speaking, canvas 1 (the 1280×720 one) shows the first to join
        assert_eq!(canvases[0], (1, canvases[0].1, entries[0]));
        // virtual SSRCs are distinct
        let mut ssrcs: Vec<i64> = canvases.iter().map(|c| c.1).filter(|s| *s != 0).collect();
        ssrcs.sort_unstable();
        ssrcs.dedup();
        assert_eq!(ssrcs.len(), shown.len());
    }
}

#[tokio::test]
async fn the_active_speaker_takes_canvas_1_and_the_others_stay_put() {
    let fx = Fixture::new().await;
    let gateway = fx.join(&fx.trusted).await;
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(fx.add_person(&format!("P{i}"), i == 0).await);
    }
    let first = last_assignment(
        &fx.send_on(gateway, "video-assignment", one_plus_seven(1))
            .await,
    );
    let speaker = people[3];
    let reply = fx
        .post(
            &format!("/sim/spaces/{CODE}:setActiveSpeaker"),
            json!({"participantId": speaker}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let messages = fx.messages(gateway, Some("video-assignment")).await;
    let second = last_assignment(&messages);
    assert_eq!(second[0].2, media_entry(&fx, speaker).await, "{second:?}");
    // the previous main speaker moved to a pip; everyone else kept their canvas
    let speaker_entry = media_entry(&fx, speaker).await;
    for (before, after) in first.iter().zip(&second).skip(1) {
        if before.2 != speaker_entry && before.2 != 0 {
            assert_eq!(before, after, "{first:?} → {second:?}");
        }
    }
    assert!(
        second.iter().any(|c| c.2 == first[0].2),
        "old speaker still shown"
    );
    assert_eq!(fx.events("active_speaker_changed").await.len(), 1);
    // the speaker leaves: canvas 1 goes to the next in line
    let reply = fx
        .post(
            &format!("/sim/spaces/{CODE}/participants/{speaker}:leave"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let third = last_assignment(&fx.messages(gateway, Some("video-assignment")).await);
    assert_ne!(third[0].2, speaker_entry);
    assert!(third.iter().all(|c| c.2 != speaker_entry));
}

#[tokio::test]
async fn more_canvases_than_video_streams_is_code_3() {
    let fx = Fixture::new().await;
    let reply = fx
        .connect_offer(
            CODE,
            Some(&fx.jwt(&fx.trusted)),
            &gateway_offer(2, &["q", "h", "f"], "VP8"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let pid = reply.json["participantId"].as_i64().unwrap();
    fx.add_person("Host", true).await;
    let messages = fx.send_on(pid, "video-assignment", one_plus_seven(7)).await;
    let response = &messages[0]["message"]["response"];
    assert_eq!(response["requestId"], 7);
    assert_eq!(response["status"]["code"], 3, "{messages:?}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("8 canvases, but only 2 video streams")
    );
    assert!(
        messages.iter().all(|m| m["message"]["resources"].is_null()),
        "no assignment after a refusal"
    );
}

#[tokio::test]
async fn the_last_media_stats_upload_is_shown_in_the_ts_dialect() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.trusted).await;
    // the C++ client's dialect: raw type, camelCase keys, string values
    let upload = json!({"request": {"requestId": 9, "uploadMediaStats": {"sections": [
        {"id": "IT01V1", "inbound-rtp": {"ssrc": "1234", "framesDecoded": "900"}}]}}});
    let answer = fx.send_on(pid, "media-stats", upload).await;
    assert_eq!(answer[0]["message"]["response"]["status"]["code"], 0);
    let reply = fx
        .get(&format!("/sim/spaces/{CODE}/participants/{pid}/media"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.json["lastMediaStats"],
        json!([{"id": "IT01V1", "inbound_rtp": {"ssrc": 1234, "frames_decoded": 900}}])
    );
    // no WebRTC connection was ever made for this participant
    assert_eq!(reply.json["media"]["connected"], false);
}
