//! A progress report as a document model: headings, generated paragraphs
//! and typed tables. The same model is written as Word (official-document
//! layout), Excel (one sheet per table, numbers as numbers) and HTML, so the
//! three always say the same.

use serde::Serialize;

/// One cell of a report table. Numbers stay numbers so that Excel can
/// compute with them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    /// A number shown with at most `decimals` places.
    Number {
        value: f64,
        decimals: u8,
    },
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A number, or an empty cell when there is none (never NaN).
    pub fn number(v: Option<f64>, decimals: u8) -> Cell {
        match v {
            Some(value) if value.is_finite() => Cell::Number { value, decimals },
            _ => Cell::Empty,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Number { .. })
    }

    /// The cell as text, as Word and HTML show it.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            // Thousands separators, as the pages and Excel's #,##0 show them.
            Cell::Number { value, decimals } => {
                crate::money::grouped(&crate::plan::fmt_num(*value, *decimals as usize))
            }
            Cell::Empty => "—".to_string(),
        }
    }
}

/// A column: its title and, for numbers, the unit (shown in the header).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub title: String,
    pub unit: Option<String>,
}

impl Column {
    pub fn new(title: &str) -> Column {
        Column {
            title: title.to_string(),
            unit: None,
        }
    }

    pub fn with_unit(title: &str, unit: &str) -> Column {
        Column {
            title: title.to_string(),
            unit: Some(unit.to_string()),
        }
    }

    /// The header as printed: 完成进度（%）.
    pub fn header(&self) -> String {
        match &self.unit {
            Some(u) if !u.is_empty() => format!("{}（{u}）", self.title),
            _ => self.title.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Also the Excel sheet's name (kept under 31 characters).
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub tables: Vec<Table>,
    /// Charts, drawn after the tables.
    pub charts: Vec<Chart>,
}

/// A target's chart: actual values, the expected path, the target and the
/// forecast, over the plan period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// The caption (图N is added when the document numbers its figures).
    pub title: String,
    pub unit: String,
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
    pub actual: Vec<(chrono::NaiveDate, f64)>,
    pub expected: Vec<(chrono::NaiveDate, f64)>,
    pub target: Option<f64>,
    pub forecast: Option<ChartForecast>,
}

/// The forecast at the deadline and its band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChartForecast {
    pub date: chrono::NaiveDate,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// What the lines of every chart mean, for the caption.
pub const CHART_LEGEND: &str =
    "蓝色实线为实际值，灰色虚线为序时进度，红色虚线为目标值，橙色为到期预测及其区间。";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub title: String,
    /// The period and scope, e.g. 2024年 · 全市.
    pub subtitle: String,
    pub issuer: String,
    /// The date printed under the title (YYYY年M月D日).
    pub date: String,
    /// Which targets the report uses (original or revised) and the data date.
    pub basis: String,
    pub sections: Vec<Section>,
}

impl Report {
    /// Every chart, in order.
    pub fn charts(&self) -> impl Iterator<Item = &Chart> {
        self.sections.iter().flat_map(|s| s.charts.iter())
    }

    /// Every table, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| s.tables.iter())
    }
}

/// 1 → 一, … 10 → 十, for section numbering in official documents.
pub fn chinese_ordinal(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[n - 10]),
        20..=99 => format!("{}十{}", D[n / 10], D[n % 10]),
        _ => n.to_string(),
    }
}

/// A date as official documents write it: 2025年6月30日.
pub fn chinese_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_dates() {
        assert_eq!(chinese_ordinal(1), "一");
        assert_eq!(chinese_ordinal(10), "十");
        assert_eq!(chinese_ordinal(12), "十二");
        assert_eq!(chinese_ordinal(21), "二十一");
        assert_eq!(
            chinese_date(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
            "2025年6月30日"
        );
    }

    #[test]
    fn cells_never_show_nan() {
        assert_eq!(Cell::number(Some(f64::NAN), 2), Cell::Empty);
        assert_eq!(Cell::number(None, 2).display(), "—");
        assert_eq!(Cell::number(Some(12.50), 2).display(), "12.5");
        assert_eq!(Column::with_unit("完成进度", "%").header(), "完成进度（%）");
    }
}
