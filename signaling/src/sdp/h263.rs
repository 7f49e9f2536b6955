//! H.263 (and H.261, RFC 4587 §6.1, which has only `QCIF` and `CIF`) picture-size parameters: `SQCIF`, `QCIF`, `CIF`, `CIF4`, `CIF16` with a minimum
//! picture interval (RFC 4629 §8.1.1 for `H263-1998`; the same parameters are common on the
//! RFC 2190 `H263` payload type 34). They state what the receiver can decode, so the sizes a
//! peer offers bound what we send, and an answer lists only sizes that were offered.

use std::fmt;

use super::attribute::Fmtp;

/// A standard H.263 picture format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum H263Format {
    /// 128×96.
    Sqcif,
    /// 176×144.
    Qcif,
    /// 352×288.
    Cif,
    /// 704×576.
    Cif4,
    /// 1408×1152.
    Cif16,
}

impl H263Format {
    /// Every format, smallest first.
    pub const ALL: [Self; 5] = [Self::Sqcif, Self::Qcif, Self::Cif, Self::Cif4, Self::Cif16];

    /// The parameter name (RFC 4629 §8.1.1).
    pub fn parameter_name(self) -> &'static str {
        match self {
            Self::Sqcif => "SQCIF",
            Self::Qcif => "QCIF",
            Self::Cif => "CIF",
            Self::Cif4 => "CIF4",
            Self::Cif16 => "CIF16",
        }
    }

    /// Width and height in pixels.
    pub fn dimensions(self) -> (u16, u16) {
        match self {
            Self::Sqcif => (128, 96),
            Self::Qcif => (176, 144),
            Self::Cif => (352, 288),
            Self::Cif4 => (704, 576),
            Self::Cif16 => (1408, 1152),
        }
    }
}

/// A picture format the receiver decodes, at most 29.97/`mpi` frames per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct H263PictureSize {
    /// The picture format.
    pub format: H263Format,
    /// The minimum picture interval, 1 to 32 (RFC 4629 §8.1.1).
    pub mpi: u8,
}

impl fmt::Display for H263PictureSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.format.parameter_name(), self.mpi)
    }
}

/// The picture sizes of an fmtp, in the order written; unreadable ones are skipped.
pub(crate) fn picture_sizes(fmtp: Option<&Fmtp>) -> Vec<H263PictureSize> {
    let Some(fmtp) = fmtp else {
        return Vec::new();
    };
    let mut sizes: Vec<H263PictureSize> = Vec::new();
    for (name, value) in fmtp.parameters() {
        let Some(format) = H263Format::ALL
            .into_iter()
            .find(|f| f.parameter_name().eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let Some(mpi) = value
            .and_then(|v| v.trim().parse::<u8>().ok())
            .filter(|mpi| (1..=32).contains(mpi))
        else {
            continue;
        };
        if sizes.iter().all(|s| s.format != format) {
            sizes.push(H263PictureSize { format, mpi });
        }
    }
    sizes
}

/// The sizes we decode: up to 4CIF (16CIF is not expected from a room system).
pub(crate) fn supported(size: &H263PictureSize) -> bool {
    size.format <= H263Format::Cif4
}

/// The sizes H.261 knows (RFC 4587 §6.1): QCIF and CIF only.
pub(crate) fn h261_supported(size: &H263PictureSize) -> bool {
    matches!(size.format, H263Format::Qcif | H263Format::Cif)
}

/// The fmtp parameters for a list of sizes, e.g. `CIF=1;QCIF=1`.
pub(crate) fn fmtp_params(sizes: &[H263PictureSize]) -> String {
    sizes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}
