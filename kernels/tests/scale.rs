//! Aspect-fit scaling: bars, the 2:1 box path, bilinear monotonicity, strided sources.

use kernels::frame::{I420Frame, I420View, Yuv};
use kernels::layout::Rect;
use kernels::scale::{scale_fit, scale_fit_into};

fn assert_close(got: Yuv, want: Yuv, at: &str) {
    let ok =
        got.y.abs_diff(want.y) <= 2 && got.u.abs_diff(want.u) <= 2 && got.v.abs_diff(want.v) <= 2;
    assert!(ok, "{at}: got {got:?}, want {want:?}");
}

#[test]
fn four_by_three_in_sixteen_by_nine_is_pillarboxed() {
    let red = Yuv::from_rgb([220, 30, 30]);
    let src = I420Frame::filled(640, 480, red).unwrap();
    let mut dst = I420Frame::filled(1280, 720, Yuv::WHITE).unwrap();
    let area = Rect::new(0, 0, 960, 540);
    let inner = scale_fit_into(&src.view(), &mut dst, area).unwrap();
    // 640x480 -> 720x540, centred: bars of 120 on both sides.
    assert_eq!(inner, Rect::new(120, 0, 720, 540));
    assert_close(dst.pixel(60, 270), Yuv::BLACK, "left bar centre");
    assert_close(dst.pixel(900, 270), Yuv::BLACK, "right bar centre");
    assert_close(dst.pixel(480, 270), red, "picture centre");
    // The bar edges, exactly.
    for y in [0, 100, 539] {
        assert_eq!(dst.pixel(119, y), Yuv::BLACK);
        assert_eq!(dst.pixel(120, y), red);
        assert_eq!(dst.pixel(839, y), red);
        assert_eq!(dst.pixel(840, y), Yuv::BLACK);
    }
    // Outside the area nothing was written.
    assert_eq!(dst.pixel(961, 10), Yuv::WHITE);
    assert_eq!(dst.pixel(10, 541), Yuv::WHITE);
}

#[test]
fn sixteen_by_nine_in_four_by_three_is_letterboxed() {
    let green = Yuv::from_rgb([30, 200, 60]);
    let src = I420Frame::filled(1280, 720, green).unwrap();
    let mut dst = I420Frame::new(704, 576).unwrap();
    let inner = scale_fit(&src.view(), &mut dst);
    // 704 wide -> 396 high, (576 - 396) / 2 = 90 above and below.
    assert_eq!(inner, Rect::new(0, 90, 704, 396));
    assert_close(dst.pixel(352, 45), Yuv::BLACK, "top bar centre");
    assert_close(dst.pixel(352, 576 - 45), Yuv::BLACK, "bottom bar centre");
    assert_close(dst.pixel(352, 288), green, "picture centre");
    assert_eq!(dst.pixel(0, 89), Yuv::BLACK);
    assert_eq!(dst.pixel(0, 90), green);
    assert_eq!(dst.pixel(703, 485), green);
    assert_eq!(dst.pixel(703, 486), Yuv::BLACK);
}

#[test]
fn two_to_one_downscale_is_a_rounded_box_average() {
    #[rustfmt::skip]
    let y = vec![
        10, 20,   30, 40,   0, 255,   1, 2,
        50, 61,   70, 80, 255,   0,   3, 3,
       100, 100, 200, 200, 9,  9,    7, 7,
       100, 101, 200, 200, 9,  10,   7, 7,
    ];
    let u = vec![0, 4, 8, 12, 1, 1, 2, 2];
    let v = vec![255, 255, 0, 0, 0, 1, 0, 0];
    let src = I420Frame::from_planes(8, 4, y, u, v).unwrap();
    let mut dst = I420Frame::filled(4, 2, Yuv::WHITE).unwrap();
    assert_eq!(scale_fit(&src.view(), &mut dst), Rect::new(0, 0, 4, 2));
    // (10+20+50+61+2)/4 = 35.75 -> 35; (0+255+255+0+2)/4 = 128; (100+100+100+101+2)/4 = 100.
    assert_eq!(dst.y(), &[35, 55, 128, 2, 100, 200, 9, 7]);
    assert_eq!(dst.u(), &[2, 6]); // (0+4+1+1+2)/4, (8+12+2+2+2)/4
    assert_eq!(dst.v(), &[128, 0]); // (255+255+0+1+2)/4
}

#[test]
fn bilinear_upscale_of_a_gradient_stays_monotonic() {
    let (sw, sh) = (64u32, 36u32);
    let y: Vec<u8> = (0..sh)
        .flat_map(|_| (0..sw).map(|x| (16 + x * 3) as u8))
        .collect();
    let c = (sw / 2) as usize * (sh / 2) as usize;
    let u: Vec<u8> = (0..sh / 2)
        .flat_map(|r| std::iter::repeat_n((40 + r * 8) as u8, sw as usize / 2))
        .collect();
    let src = I420Frame::from_planes(sw, sh, y, u, vec![128; c]).unwrap();
    let mut dst = I420Frame::new(960, 540).unwrap();
    assert_eq!(scale_fit(&src.view(), &mut dst), Rect::new(0, 0, 960, 540));
    for row in dst.y().chunks(960) {
        assert!(
            row.windows(2).all(|p| p[0] <= p[1]),
            "a luma row is not monotonic"
        );
        assert_eq!(
            (row[0], row[959]),
            (16, 16 + 63 * 3),
            "the ends keep the edge values"
        );
    }
    // Chroma grows down the columns.
    for x in 0..480 {
        let column: Vec<u8> = (0..270).map(|r| dst.u()[r * 480 + x]).collect();
        assert!(
            column.windows(2).all(|p| p[0] <= p[1]),
            "chroma column {x} is not monotonic"
        );
        assert!(
            column.windows(2).any(|p| p[0] < p[1]),
            "chroma column {x} is flat"
        );
    }
}

#[test]
fn a_strided_view_scales_like_its_packed_copy() {
    // A 320x240 picture in buffers with padded rows, as GStreamer may hand over.
    let (w, h, ys, cs) = (320usize, 240usize, 384usize, 192usize);
    let luma: Vec<u8> = (0..ys * h)
        .map(|i| (i % ys * 7 + i / ys * 3) as u8)
        .collect();
    let cb: Vec<u8> = (0..cs * h / 2).map(|i| (i % cs + i / cs) as u8).collect();
    let cr: Vec<u8> = (0..cs * h / 2).map(|i| (i % cs * 2) as u8).collect();
    let view = I420View::new(w as u32, h as u32, [&luma, &cb, &cr], [ys, cs, cs]).unwrap();
    let packed = view.to_frame();
    for (dw, dh) in [(320, 240), (160, 120), (640, 360), (1280, 720), (320, 180)] {
        let mut a = I420Frame::new(dw, dh).unwrap();
        let mut b = I420Frame::new(dw, dh).unwrap();
        scale_fit(&view, &mut a);
        scale_fit(&packed.view(), &mut b);
        assert_eq!(a, b, "{dw}x{dh}");
    }
    // The exact-size path copies the picture.
    let mut same = I420Frame::new(320, 240).unwrap();
    scale_fit(&view, &mut same);
    assert_eq!(same, packed);
}

#[test]
fn odd_or_outside_rectangles_are_refused() {
    let src = I420Frame::new(64, 64).unwrap();
    let mut dst = I420Frame::new(128, 128).unwrap();
    assert!(scale_fit_into(&src.view(), &mut dst, Rect::new(1, 0, 64, 64)).is_err());
    assert!(scale_fit_into(&src.view(), &mut dst, Rect::new(0, 0, 63, 64)).is_err());
    assert!(scale_fit_into(&src.view(), &mut dst, Rect::new(96, 0, 64, 64)).is_err());
    assert!(scale_fit_into(&src.view(), &mut dst, Rect::new(0, 0, 0, 64)).is_err());
}
