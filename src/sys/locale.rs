//! What the C tools' `setlocale(LC_ALL, "")` would have chosen, decided from
//! the environment without calling it (musl's setlocale accepts any name,
//! glibc's only the locales installed; the peers are glibc programs).
//!
//! Only the two facts the readers need: is a category "C"/"POSIX" (coreutils'
//! `hard_locale`), and is the character set UTF-8 (gnulib's quotes).

use std::path::Path;

/// glibc's categories, each overridable by its own variable.
const CATEGORIES: &[&str] = &[
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
];

/// The locale name `setlocale(category, "")` looks up: LC_ALL, then the
/// category's variable, then LANG, then "C" (empty values are skipped).
fn requested(category: &str) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    for var in ["LC_ALL", category, "LANG"] {
        if let Some(value) = std::env::var_os(var) {
            if !value.is_empty() {
                return value.as_bytes().to_vec();
            }
        }
    }
    b"C".to_vec()
}

fn is_c(name: &[u8]) -> bool {
    name == b"C" || name == b"POSIX"
}

/// glibc's codeset normalisation: `UTF-8` to `utf8` (lower case, only
/// letters and digits).
fn normalise_codeset(name: &[u8]) -> Vec<u8> {
    match name.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let (base, rest) = name.split_at(dot);
            let (codeset, modifier) = match rest.iter().position(|&b| b == b'@') {
                Some(at) => rest[1..].split_at(at - 1),
                None => (&rest[1..], &b""[..]),
            };
            let mut out = base.to_vec();
            out.push(b'.');
            out.extend(
                codeset
                    .iter()
                    .filter(|b| b.is_ascii_alphanumeric())
                    .map(u8::to_ascii_lowercase),
            );
            out.extend_from_slice(modifier);
            out
        }
        None => name.to_vec(),
    }
}

/// Would glibc load this locale? C and POSIX always; C.UTF-8 is built in
/// from glibc 2.35; anything else must be installed under /usr/lib/locale
/// (as a directory or in the archive).
fn available(name: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    if is_c(name) {
        return true;
    }
    if name.contains(&b'/') || name.is_empty() {
        return false;
    }
    let normal = normalise_codeset(name);
    if normal == b"C.utf8" {
        return true;
    }
    let root = Path::new("/usr/lib/locale");
    for candidate in [name, &normal[..]] {
        if root.join(std::ffi::OsStr::from_bytes(candidate)).is_dir() {
            return true;
        }
    }
    // locale-archive holds names as NUL-terminated strings; finding the
    // normalised name there is what matters for an installed locale.
    match crate::sys::infile::read_any(&root.join("locale-archive")) {
        Ok(archive) => {
            let mut needle = normal.clone();
            needle.push(0);
            archive.windows(needle.len()).any(|w| w == &needle[..])
        }
        Err(_) => false,
    }
}

/// The name each category ends up with: all requested names when every one
/// of them loads, else "C" everywhere (setlocale(LC_ALL, "") changes
/// nothing when any category fails).
fn effective(category: &str) -> Vec<u8> {
    let all_available = CATEGORIES.iter().all(|c| available(&requested(c)));
    if all_available {
        requested(category)
    } else {
        b"C".to_vec()
    }
}

/// coreutils' `hard_locale(LC_TIME)`: the time category is not C/POSIX.
pub fn time_is_hard() -> bool {
    !is_c(&effective("LC_TIME"))
}

/// Whether LC_CTYPE's character set is UTF-8 (gnulib then quotes with
/// ‘…’ instead of '…').
pub fn ctype_is_utf8() -> bool {
    let name = effective("LC_CTYPE");
    let normal = normalise_codeset(&name);
    normal.ends_with(b".utf8") || normal.windows(6).any(|w| w == b".utf8@")
}

/// gnulib `quote()`: the argument in the locale's quotation marks.
pub fn quote(arg: &[u8]) -> Vec<u8> {
    let (open, close): (&[u8], &[u8]) = if ctype_is_utf8() {
        ("\u{2018}".as_bytes(), "\u{2019}".as_bytes())
    } else {
        (b"'", b"'")
    };
    let mut out = open.to_vec();
    out.extend_from_slice(arg);
    out.extend_from_slice(close);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codeset_normalisation() {
        assert_eq!(normalise_codeset(b"C.UTF-8"), b"C.utf8");
        assert_eq!(normalise_codeset(b"en_US.UTF-8@euro"), b"en_US.utf8@euro");
        assert_eq!(normalise_codeset(b"C"), b"C");
    }
}
