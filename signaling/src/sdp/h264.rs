//! H.264 media format parameters (RFC 6184 §8.1): `profile-level-id`, its profile (Table 5)
//! and level, `packetization-mode`, `level-asymmetry-allowed` and the receiver limits
//! `max-mbps`, `max-fs`, `max-br`; and the offer/answer rules of RFC 6184 §8.2.2.

use std::fmt;
use std::str::FromStr;

use super::attribute::Fmtp;

/// The `profile-level-id` parameter: three bytes, `profile_idc`, `profile-iop` (the constraint
/// flags) and `level_idc` (RFC 6184 §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProfileLevelId {
    /// `profile_idc`: 0x42 Baseline, 0x4D Main, 0x58 Extended, 0x64 High, ...
    pub profile_idc: u8,
    /// `profile-iop`: constraint_set0..5 flags, most significant bit first.
    pub profile_iop: u8,
    /// `level_idc`: ten times the level number, e.g. 31 for level 3.1.
    pub level_idc: u8,
}

/// `constraint_set0_flag` in `profile-iop`.
const CS0: u8 = 0x80;
/// `constraint_set1_flag` in `profile-iop`.
const CS1: u8 = 0x40;
/// `constraint_set3_flag` in `profile-iop`, which marks level 1b in the Baseline, Main and
/// Extended profiles (RFC 6184 §8.1).
const CS3: u8 = 0x10;

impl ProfileLevelId {
    /// `42000a`: the value when the parameter is absent, Baseline level 1 (RFC 6184 §8.1).
    pub const DEFAULT: Self = Self {
        profile_idc: 0x42,
        profile_iop: 0x00,
        level_idc: 10,
    };

    /// `42e01f`: Constrained Baseline, level 3.1.
    pub const CONSTRAINED_BASELINE_3_1: Self = Self {
        profile_idc: 0x42,
        profile_iop: 0xe0,
        level_idc: 31,
    };

    /// Reads six hex digits (RFC 6184 §8.1: "a base16 representation of the three bytes").
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| {
            text.get(i..i + 2)
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        };
        Some(Self {
            profile_idc: byte(0)?,
            profile_iop: byte(2)?,
            level_idc: byte(4)?,
        })
    }

    /// The profile, from `profile_idc` and `profile-iop` (RFC 6184 Table 5).
    pub fn profile(self) -> H264Profile {
        let iop = self.profile_iop;
        match self.profile_idc {
            0x42 if iop & CS1 != 0 => H264Profile::ConstrainedBaseline,
            0x42 => H264Profile::Baseline,
            0x4d if iop & CS0 != 0 => H264Profile::ConstrainedBaseline,
            0x4d => H264Profile::Main,
            0x58 if iop & (CS0 | CS1) == CS0 | CS1 => H264Profile::ConstrainedBaseline,
            0x58 if iop & CS0 != 0 => H264Profile::Baseline,
            0x58 => H264Profile::Extended,
            // constraint_set4 and constraint_set5 together: Constrained High (H.264 A.2.4.2).
            0x64 if iop & 0x0c == 0x0c => H264Profile::ConstrainedHigh,
            0x64 => H264Profile::High,
            other => H264Profile::Other(other),
        }
    }

    /// The level; `None` for a `level_idc` H.264 Table A-1 does not define.
    pub fn level(self) -> Option<H264Level> {
        if self.level_idc == 11 && self.profile_iop & CS3 != 0 && self.marks_1b_with_cs3() {
            return Some(H264Level::L1b);
        }
        H264Level::from_level_idc(self.level_idc)
    }

    /// The same profile at another level, writing level 1b the way the profile does (RFC
    /// 6184 §8.1: `level_idc` 11 with constraint_set3 in Baseline, Main and Extended, else
    /// `level_idc` 9).
    pub fn with_level(self, level: H264Level) -> Self {
        let mut iop = self.profile_iop;
        let level_idc = if self.marks_1b_with_cs3() {
            iop &= !CS3;
            if level == H264Level::L1b {
                iop |= CS3;
                11
            } else {
                level.level_idc()
            }
        } else {
            level.level_idc()
        };
        Self {
            profile_idc: self.profile_idc,
            profile_iop: iop,
            level_idc,
        }
    }

    fn marks_1b_with_cs3(self) -> bool {
        matches!(self.profile_idc, 0x42 | 0x4d | 0x58)
    }

    /// Whether a stream of this profile and one of `other` can be exchanged both ways under
    /// the symmetric profile rule of RFC 6184 §8.2.2: the same profile, where Constrained
    /// Baseline and Baseline count as one (every sender we know sends Constrained Baseline
    /// under a Baseline `profile-level-id` such as Polycom's `42801f`).
    pub fn same_profile(self, other: Self) -> bool {
        self.profile().family() == other.profile().family()
    }
}

impl fmt::Display for ProfileLevelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}{:02x}{:02x}",
            self.profile_idc, self.profile_iop, self.level_idc
        )
    }
}

impl FromStr for ProfileLevelId {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(())
    }
}

/// An H.264 profile (RFC 6184 Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum H264Profile {
    /// Constrained Baseline (e.g. `42e0xx`, `42c0xx`, `4240xx`, `4d80xx`).
    ConstrainedBaseline,
    /// Baseline without constraint_set1 (e.g. `4200xx`, `4280xx`).
    Baseline,
    /// Main.
    Main,
    /// Extended.
    Extended,
    /// High.
    High,
    /// Constrained High (`640cxx`).
    ConstrainedHigh,
    /// Another `profile_idc`.
    Other(u8),
}

impl H264Profile {
    /// The group within which RFC 6184 §8.2.2's "same profile" is judged here.
    fn family(self) -> Self {
        match self {
            Self::Baseline => Self::ConstrainedBaseline,
            other => other,
        }
    }
}

/// An H.264 level (H.264 Table A-1), ordered by capability; 1b sits between 1 and 1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum H264Level {
    /// Level 1.
    L1,
    /// Level 1b.
    L1b,
    /// Level 1.1.
    L1_1,
    /// Level 1.2.
    L1_2,
    /// Level 1.3.
    L1_3,
    /// Level 2.
    L2,
    /// Level 2.1.
    L2_1,
    /// Level 2.2.
    L2_2,
    /// Level 3.
    L3,
    /// Level 3.1.
    L3_1,
    /// Level 3.2.
    L3_2,
    /// Level 4.
    L4,
    /// Level 4.1.
    L4_1,
    /// Level 4.2.
    L4_2,
    /// Level 5.
    L5,
    /// Level 5.1.
    L5_1,
    /// Level 5.2.
    L5_2,
    /// Level 6.
    L6,
    /// Level 6.1.
    L6_1,
    /// Level 6.2.
    L6_2,
}

impl H264Level {
    const TABLE: [(u8, Self); 19] = [
        (10, Self::L1),
        (11, Self::L1_1),
        (12, Self::L1_2),
        (13, Self::L1_3),
        (20, Self::L2),
        (21, Self::L2_1),
        (22, Self::L2_2),
        (30, Self::L3),
        (31, Self::L3_1),
        (32, Self::L3_2),
        (40, Self::L4),
        (41, Self::L4_1),
        (42, Self::L4_2),
        (50, Self::L5),
        (51, Self::L5_1),
        (52, Self::L5_2),
        (60, Self::L6),
        (61, Self::L6_1),
        (62, Self::L6_2),
    ];

    /// The level of a `level_idc`, with 9 as level 1b (the High profiles' way); the
    /// constraint_set3 form of 1b needs the profile, see [`ProfileLevelId::level`].
    pub fn from_level_idc(level_idc: u8) -> Option<Self> {
        if level_idc == 9 {
            return Some(Self::L1b);
        }
        Self::TABLE
            .iter()
            .find(|(idc, _)| *idc == level_idc)
            .map(|(_, level)| *level)
    }

    /// The `level_idc`, 9 for level 1b.
    pub fn level_idc(self) -> u8 {
        Self::TABLE
            .iter()
            .find(|(_, level)| *level == self)
            .map_or(9, |(idc, _)| *idc)
    }

    /// The level's limits (H.264 Table A-1): the largest frame in macroblocks (`MaxFS`) and
    /// the most macroblocks per second (`MaxMBPS`) a decoder of this level takes. 1280×720
    /// is 3600 macroblocks, 1920×1080 8160.
    pub fn limits(self) -> (u32, u32) {
        match self {
            Self::L1 => (99, 1_485),
            Self::L1b | Self::L1_1 => (396, 3_000),
            Self::L1_2 => (396, 6_000),
            Self::L1_3 | Self::L2 => (396, 11_880),
            Self::L2_1 => (792, 19_800),
            Self::L2_2 => (1_620, 20_250),
            Self::L3 => (1_620, 40_500),
            Self::L3_1 => (3_600, 108_000),
            Self::L3_2 => (5_120, 216_000),
            Self::L4 | Self::L4_1 => (8_192, 245_760),
            Self::L4_2 => (8_704, 522_240),
            Self::L5 => (22_080, 589_824),
            Self::L5_1 => (36_864, 983_040),
            Self::L5_2 => (36_864, 2_073_600),
            Self::L6 | Self::L6_1 | Self::L6_2 => (139_264, 4_177_920),
        }
    }
}

impl fmt::Display for H264Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::L1b {
            return f.write_str("1b");
        }
        let idc = self.level_idc();
        write!(f, "{}.{}", idc / 10, idc % 10)
    }
}

/// The H.264 parameters of one payload type (RFC 6184 §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct H264Params {
    /// `profile-level-id`, `None` when absent (then [`ProfileLevelId::DEFAULT`] applies).
    pub(crate) profile_level_id: Option<ProfileLevelId>,
    /// `packetization-mode`, 0 when absent.
    pub(crate) packetization_mode: u8,
    /// Whether `packetization-mode` was written.
    pub(crate) has_packetization_mode: bool,
    /// `level-asymmetry-allowed=1`.
    pub(crate) level_asymmetry_allowed: bool,
    /// `max-mbps`: macroblocks per second the receiver can decode.
    pub(crate) max_mbps: Option<u32>,
    /// `max-fs`: frame size in macroblocks.
    pub(crate) max_fs: Option<u32>,
    /// `max-br`: bit rate in units of 1000 (VCL) or 1200 (NAL) bit/s.
    pub(crate) max_br: Option<u32>,
}

impl H264Params {
    /// Reads the parameters of a payload type; `None` if `profile-level-id` or
    /// `packetization-mode` is unreadable, as such a format cannot be agreed on. Of a repeated
    /// parameter the first counts.
    pub(crate) fn from_fmtp(fmtp: Option<&Fmtp>) -> Option<Self> {
        let mut params = Self {
            profile_level_id: None,
            packetization_mode: 0,
            has_packetization_mode: false,
            level_asymmetry_allowed: false,
            max_mbps: None,
            max_fs: None,
            max_br: None,
        };
        let Some(fmtp) = fmtp else {
            return Some(params);
        };
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in fmtp.parameters() {
            // The first of a repeated parameter counts, as with `Fmtp::get`.
            let name = name.to_ascii_lowercase();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let value = value.unwrap_or_default().trim();
            let number = || value.parse::<u32>().ok();
            match name.as_str() {
                "profile-level-id" => params.profile_level_id = Some(ProfileLevelId::parse(value)?),
                "packetization-mode" => {
                    params.packetization_mode = value.parse().ok()?;
                    params.has_packetization_mode = true;
                }
                "level-asymmetry-allowed" => params.level_asymmetry_allowed = value == "1",
                "max-mbps" => params.max_mbps = number(),
                "max-fs" => params.max_fs = number(),
                "max-br" => params.max_br = number(),
                _ => {}
            }
        }
        Some(params)
    }

    /// `profile-level-id`, or its default.
    pub(crate) fn profile_level_id(&self) -> ProfileLevelId {
        self.profile_level_id.unwrap_or(ProfileLevelId::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_limits_follow_table_a1() {
        // 720p30 needs 3.1; 1080p30 needs 4.
        let fits = |level: H264Level, (w, h): (u32, u32), fps: u32| {
            let (fs, mbps) = level.limits();
            let mbs = w.div_ceil(16) * h.div_ceil(16);
            mbs <= fs && mbs * fps <= mbps
        };
        assert!(fits(H264Level::L3_1, (1280, 720), 30));
        assert!(!fits(H264Level::L3, (1280, 720), 30));
        assert!(fits(H264Level::L4, (1920, 1080), 30));
        assert!(!fits(H264Level::L3_2, (1920, 1080), 30));
        assert!(fits(H264Level::L1_3, (352, 288), 30));
        for (idc, level) in H264Level::TABLE {
            let (fs, mbps) = level.limits();
            assert!(fs > 0 && mbps >= fs, "level {idc}");
        }
    }

    fn plid(text: &str) -> ProfileLevelId {
        ProfileLevelId::parse(text).unwrap()
    }

    #[test]
    fn profiles_of_rfc6184_table_5() {
        for (text, profile) in [
            ("42e01f", H264Profile::ConstrainedBaseline),
            ("42c01e", H264Profile::ConstrainedBaseline),
            ("42401e", H264Profile::ConstrainedBaseline),
            ("4d801f", H264Profile::ConstrainedBaseline),
            ("58c01f", H264Profile::ConstrainedBaseline),
            ("42801f", H264Profile::Baseline),
            ("42001f", H264Profile::Baseline),
            ("58801f", H264Profile::Baseline),
            ("4d001f", H264Profile::Main),
            ("58001f", H264Profile::Extended),
            ("640028", H264Profile::High),
            ("640c28", H264Profile::ConstrainedHigh),
            ("f4001f", H264Profile::Other(0xf4)),
        ] {
            assert_eq!(plid(text).profile(), profile, "{text}");
        }
        assert!(plid("42801f").same_profile(plid("42e01f")));
        assert!(!plid("640028").same_profile(plid("42e01f")));
        assert_eq!(ProfileLevelId::parse("42e01"), None);
        assert_eq!(ProfileLevelId::parse("42e0zz"), None);
        assert_eq!(plid("42E01F").to_string(), "42e01f");
    }

    #[test]
    fn levels_with_1b_both_ways() {
        assert_eq!(plid("42e01f").level(), Some(H264Level::L3_1));
        assert_eq!(
            plid("42f00b").level(),
            Some(H264Level::L1b),
            "cs3 with level_idc 11"
        );
        assert_eq!(plid("42e00b").level(), Some(H264Level::L1_1));
        assert_eq!(plid("640009").level(), Some(H264Level::L1b));
        assert_eq!(plid("64000b").level(), Some(H264Level::L1_1));
        assert_eq!(plid("42e0ff").level(), None);
        assert_eq!(
            plid("42e01f").with_level(H264Level::L1b).to_string(),
            "42f00b"
        );
        assert_eq!(
            plid("42f00b").with_level(H264Level::L4).to_string(),
            "42e028"
        );
        assert_eq!(
            plid("640028").with_level(H264Level::L1b).to_string(),
            "640009"
        );
        assert!(H264Level::L1 < H264Level::L1b && H264Level::L1b < H264Level::L1_1);
        assert!(H264Level::L3_1 < H264Level::L4);
        assert_eq!(H264Level::L3_1.to_string(), "3.1");
        assert_eq!(H264Level::L1b.to_string(), "1b");
    }

    #[test]
    fn parameters_take_the_first_of_a_repeat() {
        let fmtp = Fmtp::parse(
            "96 packetization-mode=1;packetization-mode=0;profile-level-id=42e01f;max-fs=8160",
        )
        .unwrap();
        let params = H264Params::from_fmtp(Some(&fmtp)).unwrap();
        assert_eq!(params.packetization_mode, 1);
        assert_eq!(params.max_fs, Some(8160));
        assert_eq!(
            params.profile_level_id(),
            ProfileLevelId::CONSTRAINED_BASELINE_3_1
        );
        let bad = Fmtp::parse("96 profile-level-id=xyz").unwrap();
        assert_eq!(H264Params::from_fmtp(Some(&bad)), None);
        let none = H264Params::from_fmtp(None).unwrap();
        assert_eq!(none.profile_level_id(), ProfileLevelId::DEFAULT);
        assert_eq!(none.packetization_mode, 0);
    }
}
