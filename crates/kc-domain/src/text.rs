//! What typed-in text may contain.
//!
//! People type tabs and line breaks; nobody types a NUL, a bell, an escape or
//! a right-to-left override. Such characters arrive from pasted binary, from
//! attacks on terminals and log viewers, or to make a file name read
//! backwards (`gpj.exe` shown as `exe.jpg`), and PostgreSQL refuses NUL in
//! text outright. One rule here keeps both databases alike: every text a
//! person sends is checked with [`first_forbidden`], and refused with
//! [`message`] beside the field.

/// The first character not allowed in typed text, if any: C0 controls other
/// than tab, line feed and carriage return, DEL, the C1 controls, and the
/// bidirectional embedding, override and isolate characters.
pub fn first_forbidden(s: &str) -> Option<char> {
    s.chars().find(|&c| is_forbidden(c))
}

pub fn is_forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The message shown beside a field holding `c`.
pub fn message(c: char) -> String {
    format!(
        "含有不可见的控制字符（U+{:04X}），多见于从其他软件复制的内容，请删除后重新输入",
        c as u32
    )
}

/// `s` without the forbidden characters, for text a form cannot show back
/// (an uploaded file's name).
pub fn strip_forbidden(s: &str) -> String {
    s.chars().filter(|&c| !is_forbidden(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_keeps_tabs_and_line_breaks_and_loses_the_rest() {
        for ok in [
            "龙子湖区",
            "a\tb",
            "第一行\r\n第二行",
            "emoji 🚀",
            "é (e\u{301})",
            "零宽\u{200d}连接",
        ] {
            assert_eq!(first_forbidden(ok), None, "{ok:?}");
        }
        for (bad, c) in [
            ("kjj\u{0}", '\u{0}'),
            ("\u{7}bell", '\u{7}'),
            ("esc\u{1b}[31m", '\u{1b}'),
            ("gpj.\u{202e}exe", '\u{202e}'),
            ("c1\u{85}", '\u{85}'),
            ("del\u{7f}", '\u{7f}'),
            ("iso\u{2066}x", '\u{2066}'),
        ] {
            assert_eq!(first_forbidden(bad), Some(c), "{bad:?}");
        }
        assert_eq!(strip_forbidden("a\u{0}b\u{202e}c\td"), "abc\td");
        assert!(message('\u{0}').contains("U+0000"));
    }
}
