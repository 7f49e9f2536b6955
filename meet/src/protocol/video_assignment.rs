//! `video-assignment`: the client's layout request and the server's assignment of video
//! streams to canvases (meet-side.md §1.4; tcn's 1+7 layout: §5.a step 6).
//!
//! The client describes its layout as *canvases* (an id, a size, and how the server should
//! fill it: `relevant` = server's choice); the server answers with the virtual SSRC and media
//! entry it puts on each canvas. No video is sent before a `setAssignment` is accepted; a new
//! one replaces the old. Canvas ids should stay the same from one request to the next, so the
//! server keeps each stream on the same canvas.
//!
//! tcn always asks for the 1+7 layout: one 1280×720 canvas and seven 320×180 canvases, ids 1
//! to 8; see [`SetAssignment::one_plus_seven`].

use serde::{Deserialize, Serialize};

use super::{ClientMessage, Empty, Response, int64};

/// A client → server `video-assignment` message.
pub type VideoAssignmentFromClient = ClientMessage<VideoAssignmentRequestPayload>;

impl VideoAssignmentFromClient {
    /// A `setAssignment` request.
    pub fn set_assignment(request_id: i64, assignment: SetAssignment) -> Self {
        Self::new(
            request_id,
            VideoAssignmentRequestPayload {
                set_assignment: Some(assignment),
            },
        )
    }

    /// The `setAssignment` request for tcn's 1+7 layout ([`SetAssignment::one_plus_seven`]).
    /// `label` names this layout version; the server echoes it in the assignment.
    pub fn set_assignment_1_plus_7(request_id: i64, label: impl Into<String>) -> Self {
        Self::set_assignment(request_id, SetAssignment::one_plus_seven(label))
    }
}

/// The canvas id of the main (large) canvas of the 1+7 layout.
pub const MAIN_CANVAS_ID: i32 = 1;
/// The canvas ids of the seven small canvases of the 1+7 layout, in tile order.
pub const SMALL_CANVAS_IDS: [i32; 7] = [2, 3, 4, 5, 6, 7, 8];
/// The size of the main canvas of the 1+7 layout.
pub const MAIN_CANVAS_SIZE: CanvasDimensions = CanvasDimensions {
    height: 720,
    width: 1280,
};
/// The size of each small canvas of the 1+7 layout.
pub const SMALL_CANVAS_SIZE: CanvasDimensions = CanvasDimensions {
    height: 180,
    width: 320,
};
/// The largest video tcn asks for in the 1+7 layout: the main canvas size at 30 fps.
pub const ONE_PLUS_SEVEN_MAX_RESOLUTION: VideoResolution = VideoResolution {
    height: 720,
    width: 1280,
    frame_rate: 30,
};

/// The request kinds of `video-assignment` (a `oneof`; none set for an unknown kind).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoAssignmentRequestPayload {
    /// `setAssignment`: replace the layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_assignment: Option<SetAssignment>,
}

/// The body of `setAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetAssignment {
    /// The new layout.
    #[serde(default)]
    pub layout_model: LayoutModel,
    /// The largest video the client wants on any canvas; absent, the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_resolution: Option<VideoResolution>,
}

impl SetAssignment {
    /// tcn's 1+7 layout: canvas [`MAIN_CANVAS_ID`] of [`MAIN_CANVAS_SIZE`] (1280×720), then
    /// canvases [`SMALL_CANVAS_IDS`] of [`SMALL_CANVAS_SIZE`] (320×180), all `relevant`, with
    /// [`ONE_PLUS_SEVEN_MAX_RESOLUTION`] (1280×720 at 30 fps). The canvas ids are the same
    /// on every call; only `label` changes.
    pub fn one_plus_seven(label: impl Into<String>) -> Self {
        let main = Canvas::relevant(MAIN_CANVAS_ID, MAIN_CANVAS_SIZE);
        let small = SMALL_CANVAS_IDS
            .iter()
            .map(|&id| Canvas::relevant(id, SMALL_CANVAS_SIZE));
        Self {
            layout_model: LayoutModel {
                label: label.into(),
                canvases: std::iter::once(main).chain(small).collect(),
            },
            max_video_resolution: Some(ONE_PLUS_SEVEN_MAX_RESOLUTION),
        }
    }
}

/// A layout: a label and its canvases.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutModel {
    /// Client-chosen name of this layout, echoed in [`VideoAssignment::label`].
    #[serde(default)]
    pub label: String,
    /// The canvases; more than the negotiated video streams is an error on the server.
    #[serde(default)]
    pub canvases: Vec<Canvas>,
}

/// One canvas of a layout: `{"id": 1, "dimensions": {...}, "relevant": {}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Canvas {
    /// Canvas id: non-zero, unique in the layout, reused across layouts.
    #[serde(default, with = "int64")]
    pub id: i32,
    /// The canvas size in pixels.
    #[serde(default)]
    pub dimensions: CanvasDimensions,
    /// Set for the `relevant` mode: the server puts the most relevant stream here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Empty>,
    /// Set for the `direct` mode (serialised by Google's C++ client, with no target field
    /// defined yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<Empty>,
}

impl Canvas {
    /// A canvas in `relevant` mode.
    pub fn relevant(id: i32, dimensions: CanvasDimensions) -> Self {
        Self {
            id,
            dimensions,
            relevant: Some(Empty {}),
            direct: None,
        }
    }

    /// The canvas mode; `None` when neither is set (a mode this version does not know).
    /// Should both be set, `relevant` wins.
    pub fn assignment_protocol(&self) -> Option<AssignmentProtocol> {
        if self.relevant.is_some() {
            Some(AssignmentProtocol::Relevant)
        } else if self.direct.is_some() {
            Some(AssignmentProtocol::Direct)
        } else {
            None
        }
    }
}

/// How the server chooses the stream for a canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignmentProtocol {
    /// The server picks the most relevant stream (the only mode Meet supports today).
    Relevant,
    /// The client names the stream (declared, not usable yet).
    Direct,
}

/// A canvas size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasDimensions {
    /// Height in pixels.
    #[serde(default, with = "int64")]
    pub height: u32,
    /// Width in pixels.
    #[serde(default, with = "int64")]
    pub width: u32,
}

/// The largest video the client wants to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoResolution {
    /// Height in pixels.
    #[serde(default, with = "int64")]
    pub height: u32,
    /// Width in pixels.
    #[serde(default, with = "int64")]
    pub width: u32,
    /// Frames per second.
    #[serde(default, with = "int64")]
    pub frame_rate: u32,
}

/// The echo of the request kind in a `video-assignment` response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoAssignmentResponsePayload {
    /// Set in the answer to a `setAssignment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_assignment: Option<Empty>,
}

/// A server → client `video-assignment` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoAssignmentToClient {
    /// The answer to a `setAssignment`, if this message carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response<VideoAssignmentResponsePayload>>,
    /// Assignment snapshots (in practice at most one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<VideoAssignmentResource>,
}

impl VideoAssignmentToClient {
    /// A message carrying only a new assignment.
    pub fn assignment(assignment: VideoAssignment) -> Self {
        Self {
            response: None,
            resources: vec![VideoAssignmentResource {
                id: 0,
                video_assignment: Some(assignment),
            }],
        }
    }

    /// The assignment in this message, if any (the last snapshot when there are several).
    pub fn current_assignment(&self) -> Option<&VideoAssignment> {
        self.resources
            .iter()
            .rev()
            .find_map(|r| r.video_assignment.as_ref())
    }
}

/// A `video-assignment` resource snapshot: `{"id"?: 0, "videoAssignment": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoAssignmentResource {
    /// Resource id; always 0 (singleton). Absent reads as 0.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_assignment: Option<VideoAssignment>,
}

/// Which stream the server sends for each canvas.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoAssignment {
    /// The [`LayoutModel::label`] this assignment is for.
    #[serde(default)]
    pub label: String,
    /// One entry per canvas, in no particular order.
    #[serde(default)]
    pub canvases: Vec<CanvasAssignment>,
}

impl VideoAssignment {
    /// The assignment of canvas `canvas_id`, if the server sent one.
    pub fn canvas(&self, canvas_id: i32) -> Option<&CanvasAssignment> {
        self.canvases.iter().find(|c| c.canvas_id == canvas_id)
    }
}

/// The stream on one canvas: `{"canvasId": 1, "ssrc": 3001, "mediaEntryId": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasAssignment {
    /// The [`Canvas::id`].
    #[serde(default, with = "int64")]
    pub canvas_id: i32,
    /// The virtual SSRC the video arrives on; 0 when there is no video for this canvas.
    #[serde(default, with = "int64")]
    pub ssrc: u32,
    /// The media entry ([`super::media_entries::MediaEntryResource::id`]) shown.
    #[serde(default, with = "int64")]
    pub media_entry_id: i64,
}

impl CanvasAssignment {
    /// The virtual SSRC, or `None` when the canvas gets no video.
    pub fn video_ssrc(&self) -> Option<u32> {
        (self.ssrc != 0).then_some(self.ssrc)
    }
}
