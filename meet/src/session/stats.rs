//! What a stats upload carries: the caller's sections, filtered by the server's allowlist and
//! written in the TS dialect (meet-side.md §1.4 media-stats, §5.a step 7).

use crate::protocol::media_stats::{MediaStatsConfiguration, MediaStatsSection};

/// `sections` as an upload under `configuration` sends them: each converted to the TS
/// dialect ([`MediaStatsSection::to_ts_style`]); a section whose type the allowlist does not
/// name is dropped, and of the others only the allowlisted keys are kept (a section of an
/// allowlisted type stays, with its id, even when none of its keys is allowlisted).
pub(crate) fn allowed_sections(
    configuration: &MediaStatsConfiguration,
    sections: &[MediaStatsSection],
) -> Vec<MediaStatsSection> {
    sections
        .iter()
        .map(MediaStatsSection::to_ts_style)
        .filter(|s| {
            configuration
                .allowlist
                .keys()
                .any(|t| t.replace('-', "_") == s.section_type)
        })
        .map(|mut s| {
            let section_type = s.section_type.clone();
            s.values
                .retain(|key, _| configuration.allows(&section_type, key));
            s
        })
        .collect()
}
