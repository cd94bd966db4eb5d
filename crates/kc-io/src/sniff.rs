//! Evidence attachments (佐证材料) checked by what they contain, not by what
//! they are called.
//!
//! A name is only a claim: an HTML page or a script renamed `.pdf` would be
//! served back to reviewers under a trusted type, so every upload must both
//! carry an accepted extension and really be a file of that kind. Detection
//! reads magic bytes; for the containers (OLE2 compound files behind
//! doc/xls/ppt, ZIP behind docx/xlsx/pptx/ofd) it reads just enough of the
//! container's directory to know which application wrote it.
//!
//! Everything here works on a byte slice held in memory: magic numbers from
//! `infer`, OLE2 directories read by `cfb`, ZIP central directories by
//! `zip`. The input comes from strangers; the property tests below feed
//! arbitrary and damaged bytes to make sure none of it panics.

/// Kinds of evidence files accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Doc,
    Xls,
    Ppt,
    Docx,
    Xlsx,
    Pptx,
    Ofd,
}

impl FileKind {
    /// Every accepted kind, e.g. to list the extensions a form accepts.
    pub const ALL: [FileKind; 11] = [
        FileKind::Pdf,
        FileKind::Png,
        FileKind::Jpeg,
        FileKind::Gif,
        FileKind::Doc,
        FileKind::Xls,
        FileKind::Ppt,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Pptx,
        FileKind::Ofd,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Ppt => "application/vnd.ms-powerpoint",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Ofd => "application/ofd",
        }
    }

    /// The extensions that claim this kind: lower case, without the dot.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Png => &["png"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Gif => &["gif"],
            FileKind::Doc => &["doc"],
            FileKind::Xls => &["xls"],
            FileKind::Ppt => &["ppt"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
            FileKind::Pptx => &["pptx"],
            FileKind::Ofd => &["ofd"],
        }
    }

    /// The kind's name as Office and Chinese users call it. The old binary
    /// formats are named apart from the new ones ("Word 97-2003 文档") so
    /// that a .doc renamed .docx gives a message one can act on.
    pub fn zh(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF 文档",
            FileKind::Png => "PNG 图片",
            FileKind::Jpeg => "JPEG 图片",
            FileKind::Gif => "GIF 图片",
            FileKind::Doc => "Word 97-2003 文档",
            FileKind::Xls => "Excel 97-2003 工作簿",
            FileKind::Ppt => "PowerPoint 97-2003 演示文稿",
            FileKind::Docx => "Word 文档",
            FileKind::Xlsx => "Excel 工作簿",
            FileKind::Pptx => "PowerPoint 演示文稿",
            FileKind::Ofd => "OFD 版式文档",
        }
    }

    fn by_extension(ext: &str) -> Option<FileKind> {
        FileKind::ALL
            .into_iter()
            .find(|k| k.extensions().contains(&ext))
    }
}

/// Why an attachment was refused, in words the uploader can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("文件为空")]
    Empty,
    #[error("文件过大：{size} 字节，上限为 {limit} 字节")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "不支持的文件类型“{ext}”：只接受 PDF、图片（PNG、JPEG、GIF）、Office 文档（doc/docx/xls/xlsx/ppt/pptx）和 OFD"
    )]
    UnsupportedExtension { ext: String },
    #[error("文件内容与扩展名不符：名为 .{ext}，内容却是{found}")]
    Mismatch { ext: String, found: String },
}

/// What [`SniffError::Mismatch`] says when the content is none of the kinds.
pub const UNRECOGNISED: &str = "无法识别的内容";

/// Checks `name`'s extension (case-insensitive; a name without extension is
/// UnsupportedExtension with ext "") and that `bytes` really are that kind,
/// and size <= limit. Returns the kind.
///
/// The extension is checked first, as it is what the uploader can fix most
/// easily, then emptiness and size, then the content.
pub fn check(name: &str, bytes: &[u8], limit: usize) -> Result<FileKind, SniffError> {
    let ext = extension(name);
    let Some(kind) = FileKind::by_extension(&ext) else {
        return Err(SniffError::UnsupportedExtension { ext });
    };
    if bytes.is_empty() {
        return Err(SniffError::Empty);
    }
    if bytes.len() > limit {
        return Err(SniffError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    match detect(bytes) {
        Some(found) if found == kind => Ok(kind),
        found => Err(SniffError::Mismatch {
            ext,
            found: found.map_or(UNRECOGNISED, FileKind::zh).to_string(),
        }),
    }
}

/// The lower-cased extension of a file name, "" when there is none. Some
/// browsers send the whole client path (`C:\Users\...\报告.pdf`), so only the
/// last path segment counts.
fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.')
        .map(|(_, ext)| ext.to_lowercase())
        .unwrap_or_default()
}

/// The signature of an OLE2 compound file (MS-CFB).
const OLE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// What the bytes are, whatever the name says.
///
/// Magic numbers come from `infer`. The containers are opened with their
/// own readers, which read only their directories: `cfb` for OLE2 compound
/// files, `zip` (its central directory; nothing is decompressed) for ZIP.
pub fn detect(bytes: &[u8]) -> Option<FileKind> {
    if infer::archive::is_pdf(bytes) {
        Some(FileKind::Pdf)
    } else if infer::image::is_png(bytes) {
        Some(FileKind::Png)
    } else if infer::image::is_jpeg(bytes) {
        Some(FileKind::Jpeg)
    } else if infer::image::is_gif(bytes) {
        Some(FileKind::Gif)
    } else if bytes.starts_with(OLE) {
        ole(bytes)
    } else if infer::archive::is_zip(bytes) {
        ooxml_or_ofd(bytes)
    } else {
        None
    }
}

/// doc, xls or ppt: an OLE2 compound file is known by the name of a stream
/// directly under the root storage. Only the root's own children count: an
/// embedded object brings its own "WordDocument" or "Workbook" stream one
/// storage down, and the text of a document (UTF-16LE, like the names) may
/// mention any of them.
fn ole(bytes: &[u8]) -> Option<FileKind> {
    let file = cfb::CompoundFile::open(std::io::Cursor::new(bytes)).ok()?;
    let (mut word, mut excel, mut powerpoint) = (false, false, false);
    for entry in file.read_root_storage().filter(|e| e.is_stream()) {
        let name = entry.name();
        word |= name.eq_ignore_ascii_case("WordDocument");
        excel |= name.eq_ignore_ascii_case("Workbook") || name.eq_ignore_ascii_case("Book");
        powerpoint |= name.eq_ignore_ascii_case("PowerPoint Document");
    }
    if word {
        Some(FileKind::Doc)
    } else if excel {
        Some(FileKind::Xls)
    } else if powerpoint {
        Some(FileKind::Ppt)
    } else {
        None
    }
}

/// docx, xlsx, pptx (OOXML) or OFD: a ZIP archive known by its entry names,
/// read from the central directory, the archive's own index. An archive
/// without its central directory is truncated and no use as evidence.
fn ooxml_or_ofd(bytes: &[u8]) -> Option<FileKind> {
    // The archive starts at the file's first byte (the upload is the whole
    // file): with the offset known, an end record that lies about where the
    // directory is (say, a copy inside the archive comment) is passed over
    // for the real one instead of being taken as a shifted archive.
    let config = zip::read::Config {
        archive_offset: zip::read::ArchiveOffset::Known(0),
    };
    let archive = zip::ZipArchive::with_config(config, std::io::Cursor::new(bytes)).ok()?;
    let (mut content_types, mut word, mut excel, mut powerpoint, mut ofd) =
        (false, false, false, false, false);
    // OOXML part names are case-insensitive (OPC), so matching is too.
    for name in archive.file_names().flatten() {
        let starts = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        content_types |= name.eq_ignore_ascii_case("[Content_Types].xml");
        word |= starts("word/");
        excel |= starts("xl/");
        powerpoint |= starts("ppt/");
        ofd |= name.eq_ignore_ascii_case("OFD.xml");
    }
    // Every OOXML package has `[Content_Types].xml`; without it, a `word/`
    // folder is just a zipped folder of that name.
    if content_types && word {
        Some(FileKind::Docx)
    } else if content_types && excel {
        Some(FileKind::Xlsx)
    } else if content_types && powerpoint {
        Some(FileKind::Pptx)
    } else if ofd {
        Some(FileKind::Ofd)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const ZIP: &[u8] = b"PK\x03\x04";

    fn u32_at(b: &[u8], pos: usize) -> Option<u32> {
        let raw = b.get(pos..pos.checked_add(4)?)?;
        raw.try_into().ok().map(u32::from_le_bytes)
    }

    const LIMIT: usize = 1 << 20;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n".to_vec()
    }

    fn png() -> Vec<u8> {
        let mut b = PNG.to_vec();
        b.extend_from_slice(b"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02");
        b
    }

    fn jpeg() -> Vec<u8> {
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9".to_vec()
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A stored (uncompressed) ZIP archive with local headers, a central
    /// directory and the end record, optionally with an archive comment.
    fn zip_with_comment(entries: &[(&str, &[u8])], comment: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let (crc, len, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&20u16.to_le_bytes()); // version needed
            out.extend_from_slice(&[0; 4]); // flags, method: stored
            out.extend_from_slice(&[0; 4]); // time, date
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&name_len.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes()); // extra
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);

            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&20u16.to_le_bytes()); // made by
            central.extend_from_slice(&20u16.to_le_bytes()); // needed
            central.extend_from_slice(&[0; 8]); // flags, method, time, date
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&len.to_le_bytes());
            central.extend_from_slice(&len.to_le_bytes());
            central.extend_from_slice(&name_len.to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]); // disk numbers
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(comment.len() as u16).to_le_bytes());
        out.extend_from_slice(comment);
        out
    }

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        zip_with_comment(entries, b"")
    }

    /// The same archive with ZIP64 end records, whose classic end record
    /// only says "look elsewhere".
    fn zip64(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let plain = zip(entries);
        let end = plain.len() - 22;
        let size = u64::from(u32_at(&plain, end + 12).unwrap());
        let offset = u64::from(u32_at(&plain, end + 16).unwrap());
        let count = entries.len() as u64;
        let mut out = plain[..end].to_vec();
        let record = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [count, count, size, offset] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(b"PK\x06\x07");
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&record.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        out.extend_from_slice(&[0xFF; 8]);
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    const TYPES: (&str, &[u8]) = ("[Content_Types].xml", b"<Types/>");

    fn docx() -> Vec<u8> {
        zip(&[TYPES, ("word/document.xml", b"<w:document/>")])
    }

    /// A directory entry for [`ole`]: name, object type and the ids of its
    /// left sibling, right sibling and first child.
    struct Entry(&'static str, u8, u32, u32, u32);

    const NONE: u32 = 0xFFFF_FFFF;
    const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
    const FAT_SECT: u32 = 0xFFFF_FFFD;
    const DIF_SECT: u32 = 0xFFFF_FFFC;

    /// A compound file whose streams are all empty: the header, the FAT
    /// (and DIFAT) sectors, `padding` filler sectors, then the directory.
    fn ole(shift: u16, padding: usize, entries: &[Entry]) -> Vec<u8> {
        let sector = 1usize << shift;
        let per = sector / 4;
        let dir_sectors = (entries.len() * 128).div_ceil(sector);
        // Find how many FAT and DIFAT sectors the file needs, as they count
        // among the sectors the FAT must describe.
        let (mut fat, mut difat) = (1, 0);
        loop {
            let total = fat + difat + padding + dir_sectors;
            let need_fat = total.div_ceil(per);
            let need_difat = need_fat.saturating_sub(109).div_ceil(per - 1);
            if (need_fat, need_difat) == (fat, difat) {
                break;
            }
            (fat, difat) = (need_fat, need_difat);
        }
        let first_dir = fat + difat + padding;
        let total = first_dir + dir_sectors;

        let mut table = vec![NONE; fat * per];
        table[..fat].fill(FAT_SECT);
        table[fat..fat + difat].fill(DIF_SECT);
        for (s, next) in (first_dir..).zip(&mut table[first_dir..total]) {
            *next = if s + 1 == total {
                END_OF_CHAIN
            } else {
                s as u32 + 1
            };
        }
        let mut fat_ids: Vec<u32> = (0..fat as u32).collect();
        fat_ids.resize(109 + difat * (per - 1), NONE);

        let mut out = vec![0u8; sector * (total + 1)];
        out[..8].copy_from_slice(OLE);
        out[24..26].copy_from_slice(&0x3Eu16.to_le_bytes());
        out[26..28].copy_from_slice(&(if shift == 9 { 3u16 } else { 4 }).to_le_bytes());
        out[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
        out[30..32].copy_from_slice(&shift.to_le_bytes());
        out[32..34].copy_from_slice(&6u16.to_le_bytes());
        out[44..48].copy_from_slice(&(fat as u32).to_le_bytes());
        out[48..52].copy_from_slice(&(first_dir as u32).to_le_bytes());
        out[56..60].copy_from_slice(&4096u32.to_le_bytes());
        out[60..64].copy_from_slice(&END_OF_CHAIN.to_le_bytes());
        let first_difat = if difat > 0 { fat as u32 } else { END_OF_CHAIN };
        out[68..72].copy_from_slice(&first_difat.to_le_bytes());
        out[72..76].copy_from_slice(&(difat as u32).to_le_bytes());
        for (i, id) in fat_ids[..109].iter().enumerate() {
            out[76 + i * 4..80 + i * 4].copy_from_slice(&id.to_le_bytes());
        }
        let at = |s: usize| (s + 1) * sector;
        for (i, v) in table.iter().enumerate() {
            let pos = at(i / per) + (i % per) * 4;
            out[pos..pos + 4].copy_from_slice(&v.to_le_bytes());
        }
        for d in 0..difat {
            let ids = &fat_ids[109 + d * (per - 1)..109 + (d + 1) * (per - 1)];
            let next = if d + 1 == difat {
                END_OF_CHAIN
            } else {
                (fat + d + 1) as u32
            };
            for (i, v) in ids.iter().chain([&next]).enumerate() {
                let pos = at(fat + d) + i * 4;
                out[pos..pos + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        for (i, Entry(name, kind, left, right, child)) in entries.iter().enumerate() {
            let pos = at(first_dir) + i * 128;
            for (j, unit) in name.encode_utf16().enumerate() {
                out[pos + j * 2..pos + j * 2 + 2].copy_from_slice(&unit.to_le_bytes());
            }
            let name_len = (name.encode_utf16().count() as u16 + 1) * 2;
            out[pos + 64..pos + 66].copy_from_slice(&name_len.to_le_bytes());
            out[pos + 66] = *kind;
            out[pos + 67] = 1; // black
            out[pos + 68..pos + 72].copy_from_slice(&left.to_le_bytes());
            out[pos + 72..pos + 76].copy_from_slice(&right.to_le_bytes());
            out[pos + 76..pos + 80].copy_from_slice(&child.to_le_bytes());
            out[pos + 116..pos + 120].copy_from_slice(&END_OF_CHAIN.to_le_bytes());
        }
        out
    }

    /// A root storage holding the given streams, linked as a chain of right
    /// siblings in the order MS-CFB requires (shorter names first, then by
    /// upper-cased name), as `cfb` checks.
    fn ole_with(shift: u16, padding: usize, streams: &[&'static str]) -> Vec<u8> {
        let mut streams = streams.to_vec();
        streams.sort_by_key(|name| (name.encode_utf16().count(), name.to_uppercase()));
        let mut entries = vec![Entry("Root Entry", 5, NONE, NONE, 1)];
        for (i, name) in streams.iter().enumerate() {
            let right = if i + 1 == streams.len() {
                NONE
            } else {
                i as u32 + 2
            };
            entries.push(Entry(name, 2, NONE, right, NONE));
        }
        ole(shift, padding, &entries)
    }

    fn doc() -> Vec<u8> {
        ole_with(9, 0, &["\u{1}CompObj", "WordDocument", "1Table"])
    }

    fn err_mismatch(ext: &str, found: &str) -> Result<FileKind, SniffError> {
        Err(SniffError::Mismatch {
            ext: ext.into(),
            found: found.into(),
        })
    }

    /// What is checked, the file's name and bytes, the size limit and the
    /// outcome wanted.
    type Case = (
        &'static str,
        &'static str,
        Vec<u8>,
        usize,
        Result<FileKind, SniffError>,
    );

    #[test]
    fn table_of_cases() {
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
        let cases: Vec<Case> = vec![
            // Good files.
            ("pdf", "2024年度报告.pdf", pdf(), LIMIT, Ok(FileKind::Pdf)),
            (
                "upper-case extension",
                "SCAN.PDF",
                pdf(),
                LIMIT,
                Ok(FileKind::Pdf),
            ),
            (
                "client path sent by old browsers",
                r"C:\Users\张三\Desktop\报告.v2.pdf",
                pdf(),
                LIMIT,
                Ok(FileKind::Pdf),
            ),
            ("png", "现场照片.png", png(), LIMIT, Ok(FileKind::Png)),
            ("jpg", "photo.jpg", jpeg(), LIMIT, Ok(FileKind::Jpeg)),
            ("jpeg", "photo.JPEG", jpeg(), LIMIT, Ok(FileKind::Jpeg)),
            (
                "gif",
                "a.gif",
                b"GIF89a\x01\x00\x01\x00".to_vec(),
                LIMIT,
                Ok(FileKind::Gif),
            ),
            ("docx", "合同.docx", docx(), LIMIT, Ok(FileKind::Docx)),
            (
                "xlsx",
                "台账.xlsx",
                zip(&[("xl/workbook.xml", b"<workbook/>"), TYPES]),
                LIMIT,
                Ok(FileKind::Xlsx),
            ),
            (
                "xlsx with ZIP64 end records",
                "台账.xlsx",
                zip64(&[TYPES, ("xl/workbook.xml", b"<workbook/>")]),
                LIMIT,
                Ok(FileKind::Xlsx),
            ),
            (
                "pptx",
                "汇报.pptx",
                zip(&[TYPES, ("ppt/presentation.xml", b"<p/>")]),
                LIMIT,
                Ok(FileKind::Pptx),
            ),
            (
                "ofd",
                "发票.ofd",
                zip(&[("OFD.xml", b"<ofd:OFD/>"), ("Doc_0/Document.xml", b"<d/>")]),
                LIMIT,
                Ok(FileKind::Ofd),
            ),
            (
                "zip whose comment holds a fake end record",
                "合同.docx",
                zip_with_comment(
                    &[TYPES, ("word/document.xml", b"<w/>")],
                    b"PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\0\0 and then more words",
                ),
                LIMIT,
                Ok(FileKind::Docx),
            ),
            ("doc", "申报书.doc", doc(), LIMIT, Ok(FileKind::Doc)),
            (
                "xls",
                "报表.xls",
                ole_with(9, 0, &["Workbook", "\u{5}SummaryInformation"]),
                LIMIT,
                Ok(FileKind::Xls),
            ),
            (
                "xls from Excel 95",
                "old.xls",
                ole_with(9, 0, &["Book"]),
                LIMIT,
                Ok(FileKind::Xls),
            ),
            (
                "ppt",
                "汇报.ppt",
                ole_with(9, 0, &["Current User", "PowerPoint Document"]),
                LIMIT,
                Ok(FileKind::Ppt),
            ),
            (
                "doc with 4096-byte sectors",
                "申报书.doc",
                ole_with(12, 0, &["WordDocument"]),
                LIMIT,
                Ok(FileKind::Doc),
            ),
            (
                "doc whose directory lies beyond the first 64 KiB",
                "申报书.doc",
                ole_with(9, 200, &["1Table", "WordDocument"]),
                LIMIT,
                Ok(FileKind::Doc),
            ),
            (
                "xls with an embedded Word object one storage down",
                "报表.xls",
                ole(
                    9,
                    0,
                    &[
                        Entry("Root Entry", 5, NONE, NONE, 1),
                        // "MBD0001" sorts before "Workbook": the left sibling.
                        Entry("Workbook", 2, 2, NONE, NONE),
                        Entry("MBD0001", 1, NONE, NONE, 3),
                        Entry("WordDocument", 2, NONE, NONE, NONE),
                    ],
                ),
                LIMIT,
                Ok(FileKind::Xls),
            ),
            // Bad files.
            ("empty", "a.pdf", Vec::new(), LIMIT, Err(SniffError::Empty)),
            (
                "too large",
                "a.pdf",
                pdf(),
                10,
                Err(SniffError::TooLarge {
                    size: pdf().len(),
                    limit: 10,
                }),
            ),
            (
                "exe",
                "setup.EXE",
                b"MZ\x90\x00".to_vec(),
                LIMIT,
                Err(SniffError::UnsupportedExtension { ext: "exe".into() }),
            ),
            (
                "no extension",
                "README",
                pdf(),
                LIMIT,
                Err(SniffError::UnsupportedExtension { ext: "".into() }),
            ),
            (
                "dot in a folder name only",
                "docs.pdf/README",
                pdf(),
                LIMIT,
                Err(SniffError::UnsupportedExtension { ext: "".into() }),
            ),
            (
                "html renamed .pdf",
                "a.pdf",
                html,
                LIMIT,
                err_mismatch("pdf", UNRECOGNISED),
            ),
            (
                "script renamed .pdf",
                "a.pdf",
                b"#!/bin/sh\nrm -rf /\n".to_vec(),
                LIMIT,
                err_mismatch("pdf", UNRECOGNISED),
            ),
            (
                "docx renamed .xlsx",
                "a.xlsx",
                docx(),
                LIMIT,
                err_mismatch("xlsx", "Word 文档"),
            ),
            (
                "doc renamed .docx",
                "a.docx",
                doc(),
                LIMIT,
                err_mismatch("docx", "Word 97-2003 文档"),
            ),
            (
                "jpeg renamed .png",
                "a.png",
                jpeg(),
                LIMIT,
                err_mismatch("png", "JPEG 图片"),
            ),
            (
                "plain zip renamed .docx",
                "a.docx",
                zip(&[("readme.txt", b"hello")]),
                LIMIT,
                err_mismatch("docx", UNRECOGNISED),
            ),
            (
                "zipped folder named word, without content types",
                "a.docx",
                zip(&[("word/notes.txt", b"hello")]),
                LIMIT,
                err_mismatch("docx", UNRECOGNISED),
            ),
            (
                "truncated zip",
                "a.docx",
                b"PK\x03\x04".to_vec(),
                LIMIT,
                err_mismatch("docx", UNRECOGNISED),
            ),
            (
                "docx cut off before its central directory",
                "a.docx",
                docx()[..60].to_vec(),
                LIMIT,
                err_mismatch("docx", UNRECOGNISED),
            ),
            (
                "random bytes named .png",
                "a.png",
                (0..200u8)
                    .map(|i| i.wrapping_mul(151).wrapping_add(7))
                    .collect(),
                LIMIT,
                err_mismatch("png", UNRECOGNISED),
            ),
            (
                "ole file of another application",
                "a.doc",
                ole_with(9, 0, &["__substg1.0_0037001F", "__properties_version1.0"]),
                LIMIT,
                err_mismatch("doc", UNRECOGNISED),
            ),
            (
                "ole header only",
                "a.doc",
                doc()[..512].to_vec(),
                LIMIT,
                err_mismatch("doc", UNRECOGNISED),
            ),
            (
                "ole whose only WordDocument is one storage down",
                "a.doc",
                ole(
                    9,
                    0,
                    &[
                        Entry("Root Entry", 5, NONE, NONE, 1),
                        Entry("ObjectPool", 1, NONE, NONE, 2),
                        Entry("WordDocument", 2, NONE, NONE, NONE),
                    ],
                ),
                LIMIT,
                err_mismatch("doc", UNRECOGNISED),
            ),
        ];
        for (what, name, bytes, limit, want) in cases {
            assert_eq!(check(name, &bytes, limit), want, "{what}");
        }
    }

    #[test]
    fn a_workbook_written_by_rust_xlsxwriter_is_xlsx() {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet()
            .write_string(0, 0, "高新技术企业")
            .unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert_eq!(check("台账.xlsx", &bytes, LIMIT), Ok(FileKind::Xlsx));
        assert_eq!(
            check("台账.docx", &bytes, LIMIT),
            err_mismatch("docx", "Excel 工作簿")
        );
    }

    #[test]
    fn ole_names_in_the_content_do_not_count() {
        // Word text is UTF-16LE too: the name written as text inside a
        // stream, not as a directory entry, must not make a workbook.
        let mut file = ole_with(9, 0, &["Contents"]);
        let text: Vec<u8> = "Workbook"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        file.extend_from_slice(&text);
        assert_eq!(detect(&file), None);
    }

    #[test]
    fn ole_with_a_difat_chain() {
        // Over 109 FAT sectors: the directory's FAT entry is only reachable
        // through the DIFAT sector chain.
        let file = ole_with(9, 14_100, &["WordDocument"]);
        let first_dir = u32_at(&file, 48).unwrap() as usize;
        assert!(first_dir / 128 >= 109, "the test must need the DIFAT chain");
        assert_eq!(u32_at(&file, 72), Some(1));
        assert_eq!(detect(&file), Some(FileKind::Doc));
    }

    #[test]
    fn ole_directory_loops_end() {
        // Siblings pointing at each other and at the root.
        let file = ole(
            9,
            0,
            &[
                Entry("Root Entry", 5, NONE, NONE, 1),
                Entry("A", 2, 2, 0, NONE),
                Entry("B", 2, 1, 1, NONE),
            ],
        );
        assert_eq!(detect(&file), None);
    }

    #[test]
    fn kinds_are_consistent() {
        for kind in FileKind::ALL {
            for ext in kind.extensions() {
                assert_eq!(FileKind::by_extension(ext), Some(kind));
                assert_eq!(ext.to_lowercase(), *ext);
            }
            assert!(kind.mime().contains('/'));
            assert!(!kind.zh().is_empty());
        }
        assert_eq!(FileKind::Doc.mime(), "application/msword");
        assert_eq!(FileKind::Ofd.mime(), "application/ofd");
        assert_eq!(FileKind::Jpeg.extensions(), ["jpg", "jpeg"]);
    }

    #[test]
    fn messages_read_well() {
        let e = check("a.xlsx", &docx(), LIMIT).unwrap_err();
        assert_eq!(
            e.to_string(),
            "文件内容与扩展名不符：名为 .xlsx，内容却是Word 文档"
        );
        let e = check("a.exe", b"MZ", LIMIT).unwrap_err();
        assert!(e.to_string().starts_with("不支持的文件类型“exe”："));
    }

    /// A valid file with some bytes overwritten and maybe cut short.
    fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
        let len = base.len();
        (
            proptest::collection::vec((0..len, any::<u8>()), 0..8),
            0..=len,
        )
            .prop_map(move |(edits, cut)| {
                let mut b = base.clone();
                for (pos, v) in edits {
                    b[pos] = v;
                }
                b.truncate(cut.max(1));
                b
            })
    }

    proptest! {
        #[test]
        fn detect_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let _ = detect(&bytes);
        }

        #[test]
        fn detect_never_panics_behind_container_magic(
            magic in prop_oneof![Just(ZIP.to_vec()), Just(OLE.to_vec())],
            tail in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let mut bytes = magic;
            bytes.extend(tail);
            let _ = detect(&bytes);
        }

        #[test]
        fn detect_never_panics_on_damaged_containers(
            bytes in prop_oneof![
                mutated(docx()),
                mutated(doc()),
                mutated(ole_with(12, 0, &["Workbook"])),
            ],
        ) {
            let _ = detect(&bytes);
            let _ = check("a.docx", &bytes, LIMIT);
        }
    }
}
