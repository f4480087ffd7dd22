//! The one way anything in utmpbox words an error for a person: a line
//! on stderr that never panics, and the errno text as the C tools print
//! it. Below everything that reports, so no layer reaches up for it.

use std::io::{self, Write};

/// `text` and a newline on stderr in one write. Unlike `eprintln!`, a
/// stderr that cannot be written (a full disk) is no panic: there is
/// nowhere left to report to, and the exit status still says it.
pub fn say(text: impl std::fmt::Display) {
    let _ = io::stderr().write_all(format!("{text}\n").as_bytes());
}

/// `text` on stderr as it is, in one write (see `say`).
pub fn say_raw(text: impl std::fmt::Display) {
    let _ = io::stderr().write_all(text.to_string().as_bytes());
}

/// The OS reason of an error without Rust's " (os error N)" suffix, as the
/// C tools print it.
pub fn os_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            match text.find(" (os error") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        }
        None => e.to_string(),
    }
}

/// `text` as `format!("{text:?}")` words it (double quotes; control
/// characters, `"` and `\\` escaped), spelled out: the tiny build's
/// `-Zfmt-debug=none` prints nothing for `{:?}`.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        // str's Debug leaves a single quote alone; char's escapes it.
        if c == '\'' {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_is_debug() {
        for text in [
            "x",
            "",
            "a\tb\n",
            "it's \"q\" \\",
            "\u{1b}[0m",
            "é\u{301}z",
            "\u{301}",
        ] {
            assert_eq!(super::quoted(text), format!("{text:?}"), "{text:?}");
        }
    }
}
