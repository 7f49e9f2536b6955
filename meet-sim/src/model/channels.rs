//! Client → server data-channel messages, and chat (meet-side.md §1.4, §5.b "Extension data
//! channels").
//!
//! Handled: `leave` on `session-control`, `sendMessage` on `x-chat`, `uploadMediaStats` on
//! `media-stats`, `setAssignment` on `video-assignment` (see the `assignment` module).

use std::time::SystemTime;

use super::SimModel;
use super::delivery::ChannelMessage;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::time::rfc3339;
use meet::protocol::media_stats::{
    MediaStatsFromClient, MediaStatsResponsePayload, MediaStatsToClient,
};
use meet::protocol::session_control::{
    DisconnectReason, SessionControlFromClient, SessionControlToClient,
};
use meet::protocol::video_assignment::VideoAssignmentFromClient;
use meet::protocol::x_chat::{
    ChatMessage, ChatMessageResource, XChatFromClient, XChatResponsePayload, XChatToClient,
};
use meet::protocol::{DataChannel, Empty, Response, Status, StatusCode};

impl SimModel {
    /// A message from participant `pid` on `channel`, as JSON text. A joined or waiting
    /// participant only; 400 `BAD_REQUEST` for JSON that is not a request of that channel.
    /// Answers (and what the request causes) come out of
    /// [`poll_delivery`](Self::poll_delivery).
    pub fn handle_channel_message(
        &mut self,
        pid: i64,
        channel: DataChannel,
        text: &str,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        let p = self
            .participants
            .get(&pid)
            .ok_or_else(|| super::lobby::participant_not_found(pid))?;
        if !p.is_present() || !p.has_channels() {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "PARTICIPANT_GONE",
                format!("participant {pid} has no open session"),
            ));
        }
        let bad =
            |e: serde_json::Error| SimError::bad_request(format!("not a {channel} request: {e}"));
        match channel {
            DataChannel::SessionControl => {
                let msg: SessionControlFromClient = serde_json::from_str(text).map_err(bad)?;
                let id = msg.request.request_id;
                if msg.request.payload.leave.is_some() {
                    let answer = SessionControlToClient::leave_answer(id, Status::ok());
                    let reason = DisconnectReason::ClientLeft;
                    self.disconnect_with(pid, answer, reason, None, now);
                }
            }
            DataChannel::XChat => {
                let msg: XChatFromClient = serde_json::from_str(text).map_err(bad)?;
                if let Some(send) = msg.request.payload.send_message {
                    let status = self.post_chat(pid, &send.text, now);
                    let answer = XChatToClient {
                        response: Some(Response {
                            request_id: msg.request.request_id,
                            status: Some(status),
                            payload: XChatResponsePayload {
                                send_message: Some(Empty {}),
                            },
                        }),
                        resources: Vec::new(),
                    };
                    self.send(pid, ChannelMessage::XChat(answer));
                }
            }
            DataChannel::MediaStats => {
                let msg: MediaStatsFromClient = serde_json::from_str(text).map_err(bad)?;
                if let Some(upload) = msg.request.payload.upload_media_stats {
                    let sections = upload.sections.len();
                    if let Some(p) = self.participants.get_mut(&pid) {
                        p.last_media_stats_sections = Some(sections);
                        // both dialects (TS: snake_case numbers; C++: raw names, strings)
                        // are kept in the TS one
                        p.last_media_stats =
                            upload.sections.iter().map(|s| s.to_ts_style()).collect();
                    }
                    self.events.push(
                        now,
                        EventKind::MediaStatsUploaded {
                            participant_id: pid,
                            sections,
                        },
                    );
                    let answer = MediaStatsToClient {
                        response: Some(Response {
                            request_id: msg.request.request_id,
                            status: Some(Status::ok()),
                            payload: MediaStatsResponsePayload {
                                upload_media_stats: Some(Empty {}),
                            },
                        }),
                        resources: Vec::new(),
                    };
                    self.send(pid, ChannelMessage::MediaStats(answer));
                }
            }
            DataChannel::VideoAssignment => {
                let msg: VideoAssignmentFromClient = serde_json::from_str(text).map_err(bad)?;
                if let Some(set) = msg.request.payload.set_assignment {
                    self.handle_set_assignment(pid, msg.request.request_id, set, now);
                }
            }
            DataChannel::Participants | DataChannel::MediaEntries | DataChannel::XConference => {
                return Err(SimError::bad_request(format!(
                    "{channel} carries no client requests"
                )));
            }
        }
        Ok(())
    }

    /// Posts `text` from `pid` to everyone else in its conference, unless chat is restricted
    /// to hosts and `pid` is not one (7 `PERMISSION_DENIED`) or the text is too long or empty
    /// (3 `INVALID_ARGUMENT`). Returns the status for the sender.
    fn post_chat(&mut self, pid: i64, text: &str, now: SystemTime) -> Status {
        let p = &self.participants[&pid];
        let space_id = p.space.clone();
        let (host, name, joined) = (p.host, p.display_name.clone(), p.is_joined());
        let restriction = self.spaces[&space_id].state.chat_restriction.clone();
        let refusal = if !joined {
            Some((
                StatusCode::FAILED_PRECONDITION,
                "not in the conference yet".to_owned(),
            ))
        } else if !host && !restriction.allows_everyone() {
            Some((
                StatusCode::PERMISSION_DENIED,
                "chat is restricted to hosts".to_owned(),
            ))
        } else if text.is_empty() || text.chars().count() > self.config.chat_max_len {
            Some((
                StatusCode::INVALID_ARGUMENT,
                format!("text must be 1 to {} characters", self.config.chat_max_len),
            ))
        } else {
            None
        };
        if let Some((code, message)) = refusal {
            self.events.push(
                now,
                EventKind::ChatRefused {
                    space: format!("spaces/{space_id}"),
                    participant_id: pid,
                    code: code.0,
                    message: message.clone(),
                },
            );
            return Status::new(code, message);
        }
        self.events.push(
            now,
            EventKind::ChatMessage {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
                text: text.to_owned(),
            },
        );
        let id = self.next_chat_id;
        self.next_chat_id += 1;
        let resource = ChatMessageResource {
            id,
            chat_message: Some(ChatMessage {
                participant_id: pid,
                display_name: name,
                text: text.to_owned(),
                create_time: rfc3339(now),
            }),
        };
        let listeners: Vec<i64> = self
            .present_in(&space_id)
            .into_iter()
            .filter(|&o| o != pid && self.participants[&o].is_joined())
            .collect();
        for other in listeners {
            let message = XChatToClient {
                response: None,
                resources: vec![resource.clone()],
            };
            self.send(other, ChannelMessage::XChat(message));
        }
        Status::ok()
    }

    /// A participant posts chat through the control API (a host or user typing in Meet).
    /// Refused like a gateway's `sendMessage`: 403 `CHAT_RESTRICTED`, 400 `BAD_REQUEST`.
    pub fn send_chat(
        &mut self,
        key: &str,
        pid: i64,
        text: &str,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        self.present_participant(key, pid)?;
        let status = self.post_chat(pid, text, now);
        match status.code {
            StatusCode::OK => Ok(()),
            StatusCode::PERMISSION_DENIED => Err(SimError::new(
                RpcCode::PermissionDenied,
                "CHAT_RESTRICTED",
                status.message,
            )),
            _ => Err(SimError::bad_request(status.message)),
        }
    }
}
