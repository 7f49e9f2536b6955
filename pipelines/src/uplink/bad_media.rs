//! Bad media from the room system is counted, never the end of the call.
//!
//! A depayloader or a decoder that meets data it cannot take says so on the bus: the
//! decoders (`max-errors = -1`) with a warning, `rtph264depay` with an *error* for a NAL unit
//! type it does not implement (a bit flip in a NAL header is enough: "NAL unit type 27 not
//! supported yet"), although it only drops that packet and goes on. The pipeline's owner
//! stops the pipeline on any error (the Meet leg does), so these errors must not reach it.
//!
//! The uplink therefore installs the pipeline bus's sync handler: a warning or an error posted
//! by an input head's depayloader or decoder is counted as a decode error of its medium (and,
//! for video, asks the room system for a keyframe); the errors are dropped there, the
//! warnings pass on. Errors of every other element (a streaming thread that stopped, a
//! failed negotiation) pass on untouched: they mean the graph itself is broken.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use gst::prelude::*;

use crate::error::PipelineError;
use crate::uplink::decode::Head;
use crate::uplink::input::InputShared;

/// Which medium an element decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Medium {
    Video,
    Audio,
}

/// Installs the filter on `pipeline`'s bus for the `video` and `audio` heads. The pipeline
/// must have no sync handler of its own.
pub(crate) fn install(
    pipeline: &gst::Pipeline,
    video: &Head,
    audio: &Head,
    shared: &Arc<InputShared>,
) -> Result<(), PipelineError> {
    let bus = pipeline
        .bus()
        .ok_or_else(|| PipelineError::Build("pipeline without a bus".into()))?;
    let watched: Vec<(gst::glib::WeakRef<gst::Element>, Medium)> = [
        (&video.depay, Medium::Video),
        (&video.decoder, Medium::Video),
        (&audio.depay, Medium::Audio),
        (&audio.decoder, Medium::Audio),
    ]
    .into_iter()
    .map(|(element, medium)| (element.downgrade(), medium))
    .collect();
    let weak = Arc::downgrade(shared);
    bus.set_sync_handler(move |_, message| {
        let is_error = match message.view() {
            gst::MessageView::Error(_) => true,
            gst::MessageView::Warning(_) => false,
            _ => return gst::BusSyncReply::Pass,
        };
        let medium = message.src().and_then(|src| {
            watched.iter().find_map(|(element, medium)| {
                element
                    .upgrade()
                    .filter(|e| e.upcast_ref::<gst::Object>() == src)
                    .map(|_| *medium)
            })
        });
        let (Some(medium), Some(shared)) = (medium, weak.upgrade()) else {
            return gst::BusSyncReply::Pass;
        };
        match medium {
            Medium::Video => {
                shared.video.decode_errors.fetch_add(1, Ordering::Relaxed);
                shared.want_keyframe();
            }
            Medium::Audio => {
                shared.audio.decode_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        if is_error {
            gst::BusSyncReply::Drop
        } else {
            gst::BusSyncReply::Pass
        }
    });
    Ok(())
}
