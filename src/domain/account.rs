//! Admin accounts: an email address and a new password, parsed.

use std::fmt;

/// An email address, trimmed and lowercased: 3..=254 characters, exactly
/// one `@` with something before it and a domain after it, and no
/// whitespace or control characters anywhere.
///
/// This is a sanity check for a form, not RFC 5322: quoted local parts with
/// spaces are refused, and the domain is not required to contain a dot
/// (`admin@localhost` is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub(crate) const MIN_CHARS: usize = 3;
    pub(crate) const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, String> {
        let length_message = || {
            format!(
                "email address must be from {} to {} characters",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("email address is required".to_owned());
        }
        // Cheap bound before lowercasing: no char is more than 4 bytes.
        if trimmed.len() > Self::MAX_CHARS * 4 {
            return Err(length_message());
        }
        // Counted after lowercasing, which can change the number of chars.
        let lower = trimmed.to_lowercase();
        let chars = lower.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(length_message());
        }
        if lower.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("email address must not contain spaces".to_owned());
        }
        let mut parts = lower.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("email address must contain exactly one @".to_owned());
        };
        if local.is_empty() {
            return Err("email address needs a name before the @".to_owned());
        }
        if domain.is_empty() {
            return Err("email address needs a domain after the @".to_owned());
        }
        Ok(Email(lower))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password chosen for an account: 12..=1024 characters, kept exactly as
/// typed (not trimmed). Its `Debug` never shows it, and it deliberately has
/// no `Display` or `Clone`; read it with [`NewPassword::expose`] only to
/// hash it.
pub struct NewPassword(String);

impl NewPassword {
    pub(crate) const MIN_CHARS: usize = 12;
    pub(crate) const MAX_CHARS: usize = 1024;

    pub fn parse(raw: String) -> Result<NewPassword, String> {
        // Counts chars, looking at no more than MAX_CHARS + 1 of them.
        if raw.chars().nth(Self::MIN_CHARS - 1).is_none() {
            return Err(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            ));
        }
        if raw.chars().nth(Self::MAX_CHARS).is_some() {
            return Err(format!(
                "password must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(NewPassword(raw))
    }

    /// Whether `raw` is longer than any password folio accepts (so no
    /// account can have it), looking at no more than `MAX_CHARS` + 1 chars.
    pub(crate) fn too_long(raw: &str) -> bool {
        raw.chars().nth(Self::MAX_CHARS).is_some()
    }

    /// The password itself, e.g. to hash it. Never log or render this.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> String {
        match Email::parse(raw) {
            Ok(e) => e.as_str().to_owned(),
            Err(e) => panic!("{raw:?} should parse, got {e:?}"),
        }
    }

    fn email_err(raw: &str) -> String {
        match Email::parse(raw) {
            Ok(e) => panic!("{raw:?} should fail, parsed as {e}"),
            Err(e) => e,
        }
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(email("admin@example.com"), "admin@example.com");
        assert_eq!(email("  Admin@Example.COM \n"), "admin@example.com");
        assert_eq!(
            email("first.last+tag@sub.example.org"),
            "first.last+tag@sub.example.org"
        );
        assert_eq!(email("a@b"), "a@b");
        assert_eq!(email("admin@localhost"), "admin@localhost");
        assert_eq!(email("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
    }

    #[test]
    fn display_and_as_str_agree() {
        let e = Email::parse(" Me@Example.com").unwrap();
        assert_eq!(e.to_string(), "me@example.com");
        assert_eq!(format!("{e}"), e.as_str());
        assert_eq!(e, Email::parse("ME@EXAMPLE.COM").unwrap());
    }

    #[test]
    fn emails_need_exactly_one_at() {
        let msg = "email address must contain exactly one @";
        for bad in [
            "example.com",
            "a@b@c",
            "@@@",
            "admin(at)example.com",
            "a@@b",
        ] {
            assert_eq!(email_err(bad), msg, "{bad:?}");
        }
    }

    #[test]
    fn emails_need_both_sides_of_the_at() {
        assert_eq!(
            email_err("@example.com"),
            "email address needs a name before the @"
        );
        assert_eq!(
            email_err("admin@"),
            "email address needs a domain after the @"
        );
    }

    #[test]
    fn emails_must_not_contain_spaces() {
        let msg = "email address must not contain spaces";
        for bad in [
            "admin@exa mple.com",
            "admin@example.com\t.org",
            "ad min@example.com",
            "admin@exa\u{a0}mple.com",
            "admin@example\u{0}.com",
            "admin@example.com\n@evil",
        ] {
            assert_eq!(email_err(bad), msg, "{bad:?}");
        }
    }

    #[test]
    fn email_length_bounds() {
        assert_eq!(email_err(""), "email address is required");
        assert_eq!(email_err("   "), "email address is required");
        let msg = "email address must be from 3 to 254 characters";
        assert_eq!(email_err("a@"), msg);
        assert_eq!(email_err(" @ "), msg); // trimmed to "@"

        let at_limit = format!("{}@example.com", "a".repeat(254 - 12));
        assert_eq!(at_limit.chars().count(), 254);
        assert_eq!(email(&at_limit), at_limit);
        let over = format!("a{at_limit}");
        assert_eq!(email_err(&over), msg);

        // Characters, not bytes: 254 two-byte chars are fine.
        let wide = format!("{}@example.com", "é".repeat(254 - 12));
        assert_eq!(email(&wide), wide);

        // Huge input is refused without lowercasing it all.
        assert_eq!(email_err(&"A".repeat(1_000_000)), msg);
    }

    #[test]
    fn email_length_is_counted_after_lowercasing() {
        // 'İ' (U+0130) lowercases to two chars: "i\u{307}".
        let raw = format!("{}@example.com", "İ".repeat(122)); // 134 chars, 256 lowercased
        assert_eq!(raw.chars().count(), 134);
        assert_eq!(
            email_err(&raw),
            "email address must be from 3 to 254 characters"
        );
        let raw = format!("{}@example.com", "İ".repeat(120)); // 252 after lowercasing
        assert_eq!(Email::parse(&raw).unwrap().as_str().chars().count(), 252);
    }

    #[test]
    fn passwords_need_12_to_1024_characters() {
        let short = "password must be at least 12 characters";
        assert_eq!(NewPassword::parse(String::new()).unwrap_err(), short);
        assert_eq!(NewPassword::parse("a".repeat(11)).unwrap_err(), short);
        assert_eq!(NewPassword::parse("ü".repeat(11)).unwrap_err(), short); // 22 bytes

        assert_eq!(
            NewPassword::parse("a".repeat(12)).unwrap().expose(),
            "a".repeat(12)
        );
        assert_eq!(
            NewPassword::parse("ü".repeat(12)).unwrap().expose(),
            "ü".repeat(12)
        );

        let long = "password must be at most 1024 characters";
        assert!(NewPassword::parse("a".repeat(1024)).is_ok());
        assert!(NewPassword::parse("😀".repeat(1024)).is_ok()); // 4096 bytes
        assert_eq!(NewPassword::parse("a".repeat(1025)).unwrap_err(), long);
        assert_eq!(NewPassword::parse("a".repeat(1_000_000)).unwrap_err(), long);
    }

    #[test]
    fn passwords_are_kept_exactly_as_typed() {
        let raw = "  Correct Horse Battery Staple \t".to_owned();
        let password = NewPassword::parse(raw.clone()).unwrap();
        assert_eq!(password.expose(), raw);

        // Whitespace counts: 12 spaces is a (bad, but) 12-character password.
        assert!(NewPassword::parse(" ".repeat(12)).is_ok());
    }

    #[test]
    fn password_debug_hides_the_password() {
        let password = NewPassword::parse("hunter2hunter2".to_owned()).unwrap();
        assert_eq!(format!("{password:?}"), "NewPassword(***)");
        assert_eq!(format!("{password:#?}"), "NewPassword(***)");
        let wrapped = Some(password);
        let shown = format!("{wrapped:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn password_errors_do_not_echo_the_password() {
        let e = NewPassword::parse("secretsecre".to_owned()).unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
