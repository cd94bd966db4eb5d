//! The chart's SVG as PNG, drawn by resvg with the system's fonts.
//!
//! Fonts are loaded once per process. Labels are set in the first Chinese
//! family found ([`CJK_FAMILIES`], Noto Sans CJK SC first: Debian's
//! `fonts-noto-cjk`), which also becomes the generic `sans-serif`. The
//! fallback is deliberate and visible: without any Chinese font the picture
//! is still drawn — lines, numbers and years in whatever sans-serif face the
//! system has — but Chinese labels cannot be, and [`fonts`] says so
//! (`cjk: None`) so that the server can warn at start.

use std::sync::{Arc, LazyLock};

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

/// Chinese families tried in order.
pub const CJK_FAMILIES: [&str; 6] = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "AR PL SungtiL GB",
];

/// What the renderer found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fonts {
    /// The Chinese family labels are set in, if any.
    pub cjk: Option<String>,
    /// The family `sans-serif` resolves to.
    pub sans_serif: Option<String>,
    /// Number of font faces loaded.
    pub faces: usize,
}

struct Loaded {
    db: Arc<fontdb::Database>,
    fonts: Fonts,
}

static LOADED: LazyLock<Loaded> = LazyLock::new(|| {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    let has = |name: &str| {
        db.faces()
            .any(|f| f.families.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
    };
    let cjk = CJK_FAMILIES.iter().find(|f| has(f)).map(|f| f.to_string());
    let sans_serif = cjk.clone().or_else(|| {
        ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"]
            .iter()
            .find(|f| has(f))
            .map(|f| f.to_string())
            .or_else(|| {
                db.faces()
                    .next()
                    .and_then(|f| f.families.first().map(|(n, _)| n.clone()))
            })
    });
    if let Some(f) = &sans_serif {
        db.set_sans_serif_family(f.clone());
    }
    let faces = db.len();
    Loaded {
        db: Arc::new(db),
        fonts: Fonts {
            cjk,
            sans_serif,
            faces,
        },
    }
});

/// The fonts the PNG renderer uses (loads them on first call).
pub fn fonts() -> Fonts {
    LOADED.fonts.clone()
}

#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// The SVG did not parse (a bug in the drawing code).
    #[error("chart SVG does not parse: {0}")]
    Svg(String),
    /// The picture has no area, or is too large.
    #[error("chart has no size")]
    Size,
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// The SVG drawn at `scale` × its own size (2 for print) as PNG bytes.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, PngError> {
    let loaded = &*LOADED;
    let opt = usvg::Options {
        fontdb: Arc::clone(&loaded.db),
        font_family: loaded
            .fonts
            .sans_serif
            .clone()
            .unwrap_or_else(|| "sans-serif".into()),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| PngError::Svg(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or(PngError::Size)?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or(PngError::Size)?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PngError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_becomes_a_png_with_its_lines() {
        let chart = crate::draw::tests::sample();
        let bytes = png(&crate::svg(&chart), 2.0).unwrap();
        assert_eq!(
            &bytes[..8],
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
        );
        let (w, h) = crate::SIZE;
        // IHDR: width and height at twice the SVG's size.
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), w * 2);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), h * 2);
        let img = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (w * 2, h * 2));
        // Not blank: the actual series' blue is where its line is.
        let blue = img
            .pixels()
            .iter()
            .filter(|p| {
                let c = p.demultiply();
                (c.red(), c.green(), c.blue()) == (0x1f, 0x5f, 0xbf)
            })
            .count();
        assert!(blue > 500, "only {blue} pixels of the actual line");
        // The background is white.
        let c = img.pixel(1, 1).unwrap().demultiply();
        assert_eq!(
            (c.red(), c.green(), c.blue(), c.alpha()),
            (255, 255, 255, 255)
        );
    }

    #[test]
    fn fonts_are_reported() {
        let f = fonts();
        // With fonts-noto-cjk installed (scripts/test installs it) the labels
        // are set in Noto Sans CJK SC; without it the fallback is reported.
        if std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists() {
            assert_eq!(f.cjk.as_deref(), Some("Noto Sans CJK SC"));
        }
        if f.cjk.is_some() {
            assert_eq!(f.sans_serif, f.cjk);
        }
    }
}
