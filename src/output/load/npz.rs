//! `.npz` archives: every member's header checked against the member's size in the zip
//! directory (and that size against what deflate can do) before anything is read, and a
//! member's data read to its end so the zip crate verifies its CRC-32.

use std::fs::File;
use std::io::Read;

use std::io::BufReader;

use super::entry::{MAX_DEFLATE_RATIO, Place, TensorHeader, npy_tensor};
use super::header::{self, NpyFloat};
use super::values::read_values;
use crate::text::escape_control;

/// The `.npy` members of an archive, each checked against the sizes the zip directory
/// gives, and those sizes against the file.
pub(super) fn npz_headers(
    archive: &mut zip::ZipArchive<BufReader<File>>,
    file_len: u64,
) -> Result<Vec<TensorHeader>, String> {
    if archive.len() > header::MAX_TENSORS {
        return Err(format!(
            "{} members is more than {} tensors",
            archive.len(),
            header::MAX_TENSORS
        ));
    }
    // Members sharing bytes with each other or with the zip directory: a cut or spliced
    // archive, or a zip bomb's trick of many entries over the same compressed data.
    if archive
        .has_overlapping_files()
        .map_err(|e| format!("cannot read the zip directory: {e}"))?
    {
        return Err(
            "its members overlap each other or the zip directory (a cut or forged archive)".into(),
        );
    }
    // The zip reader keeps one of several members of a name; which one np.load would
    // return is not for us to guess.
    if archive.has_duplicate_names() {
        return Err("two of its members have the same name".into());
    }
    let mut headers = Vec::new();
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|e| format!("member {index}: {e}"))?;
        let member_name = member
            .name()
            .map_err(|e| format!("member {index}: {e}"))?
            .to_string();
        let Some(name) = member_name.strip_suffix(".npy").map(str::to_string) else {
            continue; // np.load ignores other members too
        };
        let shown = escape_control(&member_name);
        if member.is_dir() {
            continue;
        }
        // The directory's sizes are claims: bound them by the file before trusting them.
        let size = member.size();
        let stored = member.compressed_size();
        let start = member.data_start().unwrap_or(0);
        if start.checked_add(stored).is_none_or(|end| end > file_len) {
            return Err(format!(
                "member '{shown}': its {stored} stored bytes from offset {start} run past the \
                 end of the file ({file_len} bytes)"
            ));
        }
        match member.compression() {
            zip::CompressionMethod::Stored if size != stored => {
                return Err(format!(
                    "member '{shown}' is stored uncompressed, but the zip directory gives it \
                     {size} bytes in {stored} stored bytes"
                ));
            }
            _ if size > stored.saturating_mul(MAX_DEFLATE_RATIO) => {
                return Err(format!(
                    "member '{shown}': the zip directory gives it {size} bytes, more than its \
                     {stored} compressed bytes can hold (deflate expands at most \
                     {MAX_DEFLATE_RATIO}:1)"
                ));
            }
            _ => {}
        }
        let h =
            header::read_npy_header(&mut member).map_err(|e| format!("member '{shown}': {e}"))?;
        let Some(available) = size.checked_sub(h.header_len) else {
            return Err(format!(
                "member '{shown}': its .npy header of {} bytes is longer than the member ({size} \
                 bytes in the zip directory)",
                h.header_len
            ));
        };
        let place = Place::Member {
            index,
            member: member_name.clone(),
        };
        let tensor = npy_tensor(name, h, available, place, |_| {
            format!(
                "the member has {available} after its header ({size} bytes in the zip directory)"
            )
        })
        .map_err(|e| format!("member '{shown}': {e}"))?;
        headers.push(tensor);
    }
    Ok(headers)
}

/// The data of archive member `index` after its `.npy` header, and then the rest of the
/// member, which must be nothing: reading to the end is what makes the zip reader check
/// the CRC-32 and refuse bytes beyond the size the directory gives.
pub(super) fn read_member(
    archive: &mut zip::ZipArchive<BufReader<File>>,
    index: usize,
    float: NpyFloat,
    bytes: u64,
) -> Result<Vec<f64>, String> {
    let mut member = archive.by_index(index).map_err(|e| e.to_string())?;
    let size = member.size();
    // The zip reader's own words for the two lies it catches, said plainly.
    let plain = |e: std::io::Error| {
        let text = e.to_string();
        if text.contains("checksum") {
            "its data does not match the CRC-32 in the zip directory (the file is corrupt)"
                .to_string()
        } else if text.contains("larger than its declared") {
            format!(
                "it holds more than the {size} bytes the zip directory gives it (the file is \
                 corrupt)"
            )
        } else {
            text
        }
    };
    header::read_npy_header(&mut member)?;
    let values = read_values(&mut member, float, bytes)?;
    let mut rest = [0u8; 1];
    match member.read(&mut rest) {
        Ok(0) => Ok(values),
        Ok(_) => Err(format!(
            "it holds more than the {size} bytes the zip directory gives it"
        )),
        Err(e) => Err(plain(e)),
    }
}
