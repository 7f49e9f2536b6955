//! `tcn demo`'s code path, short: the node binary as a child process with its embedded
//! meet-sim, three Meet participants and a room system, five seconds of media. The two
//! pictures it writes are read back from disk and their tiles checked: each participant's
//! colour in the tile the gateway's video assignment gives it (`vtc-view.png`), the room
//! system's bars at 1280×720 (`meet-view.png`).

use std::path::PathBuf;

use node::demo::run::{
    COLOURS, DemoOptions, check_tiles, close, distinct_colours, tile_centre, yuv,
};
use pipelines::PortRange;
use pipelines::peers::read_png;

#[test]
fn the_demo_call_writes_both_pictures_with_the_tiles_in_place() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-call");
    let mut options = DemoOptions::new(PathBuf::from(env!("CARGO_BIN_EXE_tcn")), 5, out, 3);
    options.media_ports = PortRange {
        min: 29_400,
        max: 29_499,
    };
    options.ice_base = 29_600;
    options.verbose = false;
    let summary = node::demo::run::run(&options).expect("the demo call is placed");
    let text = summary.render();
    println!("{text}");

    // The summary: media both ways, every check passed.
    assert!(summary.ok(), "{text}");
    assert!(summary.vtc_frames > 0 && summary.meet_frames > 0, "{text}");
    assert_eq!(summary.vtc_size, (1280, 720), "{text}");
    assert_eq!(summary.participants.len(), 3);
    assert!(summary.node_cpu.as_millis() > 0, "{text}");
    assert_eq!(
        summary
            .meet_layers
            .iter()
            .map(|l| (l.rid.as_str(), l.width, l.height))
            .collect::<Vec<_>>(),
        [("q", 320, 180), ("h", 640, 360), ("f", 1280, 720)],
        "{text}"
    );

    // The pictures, as a person would open them.
    let vtc_view = read_png(summary.vtc_view.as_deref().expect("vtc-view.png")).unwrap();
    assert_eq!((vtc_view.width(), vtc_view.height()), (1280, 720));
    let tiles: Vec<(usize, i64)> = summary
        .participants
        .iter()
        .map(|p| {
            (
                p.tile.expect("every participant has a tile"),
                p.participant_id,
            )
        })
        .collect();
    let colours: Vec<(i64, u32)> = summary
        .participants
        .iter()
        .map(|p| (p.participant_id, p.colour))
        .collect();
    for (check, p) in check_tiles(&vtc_view, &tiles, &colours)
        .iter()
        .zip(&summary.participants)
    {
        assert!(
            check.2,
            "{} in tile {:?}: {:?}, want {:?}",
            p.name,
            check.0,
            check.1,
            yuv(p.colour)
        );
    }
    // The last participant spoke (before the gateway): it has the main tile.
    let last = summary.participants.last().unwrap();
    assert_eq!(last.tile, Some(0), "{text}");
    assert!(close(
        tile_centre(&vtc_view, 0).unwrap(),
        yuv(COLOURS[2].1),
        16
    ));

    let meet_view = read_png(summary.meet_view.as_deref().expect("meet-view.png")).unwrap();
    assert_eq!((meet_view.width(), meet_view.height()), (1280, 720));
    assert!(
        distinct_colours(&meet_view) >= 5,
        "meet-view.png shows {} colours",
        distinct_colours(&meet_view)
    );
}
