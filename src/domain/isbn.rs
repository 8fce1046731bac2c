//! An ISBN-10 or ISBN-13 with a correct check digit, held in normal form.

use std::fmt;

/// A valid ISBN, normalized: digits only, except that an ISBN-10 may end in
/// an uppercase `X` (the check digit 10). Hyphens and spaces are stripped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isbn(String);

impl Isbn {
    /// Raw input longer than this (in characters) is refused before any
    /// other work; the longest sensible ISBN with separators is 17.
    pub(crate) const MAX_RAW_CHARS: usize = 40;

    const CHARS_MESSAGE: &'static str =
        "ISBN may contain only digits, hyphens and spaces (and X at the end of an ISBN-10)";
    const LENGTH_MESSAGE: &'static str = "ISBN must have 10 or 13 digits";
    const CHECK_MESSAGE: &'static str = "this ISBN's check digit is wrong";
    const PREFIX_MESSAGE: &'static str = "a 13-digit ISBN must start with 978 or 979";

    /// Parses an ISBN-10 or ISBN-13 as a person would type it: hyphens and
    /// spaces may appear anywhere (surrounding whitespace is ignored too),
    /// and the final `X` of an ISBN-10 may be lowercase.
    pub(crate) fn parse(raw: &str) -> Result<Isbn, String> {
        // Bounded work: look at no more than MAX_RAW_CHARS + 1 chars.
        if raw.chars().nth(Self::MAX_RAW_CHARS).is_some() {
            return Err(format!(
                "ISBN is too long (at most {} characters)",
                Self::MAX_RAW_CHARS
            ));
        }
        let trimmed = raw.trim();

        let mut normal = String::with_capacity(13);
        for c in trimmed.chars() {
            match c {
                '0'..='9' => normal.push(c),
                'X' | 'x' => normal.push('X'),
                '-' | ' ' => {}
                _ => return Err(Self::CHARS_MESSAGE.to_owned()),
            }
        }

        let len = normal.len(); // ASCII only from here on
        if len != 10 && len != 13 {
            return Err(Self::LENGTH_MESSAGE.to_owned());
        }
        // X is only ever the last character of an ISBN-10.
        let x_allowed_at = if len == 10 { Some(9) } else { None };
        if normal
            .bytes()
            .enumerate()
            .any(|(i, b)| b == b'X' && Some(i) != x_allowed_at)
        {
            return Err(Self::CHARS_MESSAGE.to_owned());
        }

        let ok = if len == 10 {
            isbn10_check_ok(normal.as_bytes())
        } else {
            if !(normal.starts_with("978") || normal.starts_with("979")) {
                return Err(Self::PREFIX_MESSAGE.to_owned());
            }
            isbn13_check_ok(normal.as_bytes())
        };
        if !ok {
            return Err(Self::CHECK_MESSAGE.to_owned());
        }
        Ok(Isbn(normal))
    }

    /// The normalized form: 10 or 13 characters, digits (and a final `X`).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Weights 10..=1, sum divisible by 11; `X` (only last) counts as 10.
fn isbn10_check_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .zip((1..=10).rev())
        .map(|(&b, weight)| {
            let value = if b == b'X' { 10 } else { u32::from(b - b'0') };
            weight * value
        })
        .sum();
    sum.is_multiple_of(11)
}

/// Weights 1, 3, 1, 3, ..., sum divisible by 10.
fn isbn13_check_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let weight = if i % 2 == 0 { 1 } else { 3 };
            weight * u32::from(b - b'0')
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Display for Isbn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        match Isbn::parse(raw) {
            Ok(isbn) => isbn.as_str().to_owned(),
            Err(e) => panic!("{raw:?} should parse, got {e:?}"),
        }
    }

    fn err(raw: &str) -> String {
        match Isbn::parse(raw) {
            Ok(isbn) => panic!("{raw:?} should fail, parsed as {isbn}"),
            Err(e) => e,
        }
    }

    #[test]
    fn valid_isbn13s_are_normalized() {
        assert_eq!(ok("9780306406157"), "9780306406157");
        assert_eq!(ok("978-0-306-40615-7"), "9780306406157");
        assert_eq!(ok("978 0 306 40615 7"), "9780306406157");
        assert_eq!(ok("  978-0306406157\t"), "9780306406157");
        assert_eq!(ok("-978--0306406157-"), "9780306406157");
        assert_eq!(ok("978-0-13-110362-7"), "9780131103627");
        assert_eq!(ok("979-10-90636-07-1"), "9791090636071");
        assert_eq!(ok("9798886451740"), "9798886451740");
    }

    #[test]
    fn valid_isbn10s_are_normalized() {
        assert_eq!(ok("0-306-40615-2"), "0306406152");
        assert_eq!(ok("0306406152"), "0306406152");
        assert_eq!(ok("0 306 40615 2"), "0306406152");
        assert_eq!(ok("0-8044-2957-X"), "080442957X");
        assert_eq!(ok("080442957x"), "080442957X");
        assert_eq!(ok("0-13-110362-8"), "0131103628");
    }

    #[test]
    fn wrong_check_digits_are_rejected() {
        let check = "this ISBN's check digit is wrong";
        assert_eq!(err("9780306406158"), check);
        assert_eq!(err("978-0-306-40615-0"), check);
        assert_eq!(err("0306406153"), check);
        assert_eq!(err("0-8044-2957-0"), check);
        assert_eq!(err("0306406150"), check);
        // Transposed digits are caught by both schemes.
        assert_eq!(err("9780306406517"), check);
        assert_eq!(err("0306406512"), check);
    }

    #[test]
    fn isbn13_needs_a_bookland_prefix() {
        // 9770306406158 passes the mod-10 check, but 977 is an ISSN prefix.
        assert!(isbn13_check_ok(b"9770306406158"));
        let e = err("977-0-306-40615-8");
        assert!(e.contains("978 or 979"), "{e}");
        let e = err("0000000000000");
        assert!(e.contains("978 or 979"), "{e}");
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let length = "ISBN must have 10 or 13 digits";
        for bad in [
            "",
            "   ",
            "-",
            "123",
            "030640615",
            "03064061522",
            "978030640615",
            "97803064061577",
            "978-0-306-40615-7-1",
            "12345678X",
        ] {
            assert_eq!(err(bad), length, "{bad:?}");
        }
    }

    #[test]
    fn other_characters_are_rejected() {
        let chars =
            "ISBN may contain only digits, hyphens and spaces (and X at the end of an ISBN-10)";
        for bad in [
            "ISBN 9780306406157",
            "978.0.306.40615.7",
            "978_0306406157",
            "978\u{2013}0306406157",      // en dash
            "９７８０３０６４０６１５７", // full-width digits
            "978\u{0}0306406157",
            "978\n0306406157",
            "+9780306406157",
            "0-306-40615-2?",
            "٠٣٠٦٤٠٦١٥٢", // Arabic-Indic digits
        ] {
            assert_eq!(err(bad), chars, "{bad:?}");
        }
    }

    #[test]
    fn x_only_as_the_last_char_of_an_isbn10() {
        let chars =
            "ISBN may contain only digits, hyphens and spaces (and X at the end of an ISBN-10)";
        assert_eq!(err("X804429570"), chars);
        assert_eq!(err("08044X9570"), chars);
        assert_eq!(err("978030640615X"), chars);
        assert_eq!(err("97803064X6157"), chars);
        assert_eq!(err("XXXXXXXXXX"), chars);
    }

    #[test]
    fn overlong_raw_input_is_rejected_up_front() {
        let forty = format!("{}9780306406157", " ".repeat(27));
        assert_eq!(forty.chars().count(), 40);
        assert_eq!(ok(&forty), "9780306406157");

        let forty_one = format!(" {forty}");
        assert!(err(&forty_one).contains("too long"));

        // Long garbage (and long multibyte garbage) is refused cheaply.
        assert!(err(&"9".repeat(1_000_000)).contains("too long"));
        assert!(err(&"é".repeat(41)).contains("too long"));
        // 40 multibyte chars is within the bound but has bad characters.
        assert!(err(&"é".repeat(40)).contains("only digits"));
    }

    #[test]
    fn display_and_as_str_show_the_normal_form() {
        let isbn = Isbn::parse("0-8044-2957-x").unwrap();
        assert_eq!(isbn.to_string(), "080442957X");
        assert_eq!(isbn.as_str(), "080442957X");
        assert_eq!(format!("{isbn}"), isbn.as_str());
    }

    #[test]
    fn normal_form_reparses_to_itself() {
        for raw in ["978-0-306-40615-7", "0-8044-2957-x", "979-10-90636-07-1"] {
            let once = Isbn::parse(raw).unwrap();
            let twice = Isbn::parse(once.as_str()).unwrap();
            assert_eq!(once, twice);
        }
    }

    #[test]
    fn every_wrong_last_digit_is_rejected() {
        // Exactly one check digit works for each body.
        let body13 = "978030640615";
        let valid13: Vec<char> = ('0'..='9')
            .filter(|c| Isbn::parse(&format!("{body13}{c}")).is_ok())
            .collect();
        assert_eq!(valid13, vec!['7']);

        let body10 = "080442957";
        let valid10: Vec<char> = ('0'..='9')
            .chain(['X'])
            .filter(|c| Isbn::parse(&format!("{body10}{c}")).is_ok())
            .collect();
        assert_eq!(valid10, vec!['X']);
    }
}
