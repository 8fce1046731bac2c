//! The admin book form: what the browser posts, and the valid book it may
//! describe.

use super::isbn::Isbn;

/// Exactly what the HTML form posts. Every field is optional so that a
/// missing field becomes a message beside the form, not a 400.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BookFormInput {
    pub title: Option<String>,
    pub author: Option<String>,
    pub isbn: Option<String>,
    pub description: Option<String>,
    pub published_year: Option<String>,
    pub csrf_token: Option<String>,
}

/// A book's editable fields, valid by construction (see [`BookForm::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BookForm {
    /// Trimmed, 1..=200 characters, no control characters but `\n` and `\t`.
    pub title: String,
    /// Trimmed, 1..=200 characters, no control characters but `\n` and `\t`.
    pub author: String,
    pub isbn: Option<Isbn>,
    /// Trimmed, at most 5,000 characters; empty when none was given.
    pub description: String,
    /// From 1450 to the year after `this_year`.
    pub published_year: Option<i32>,
}

/// One message per field that was wrong; `None` where the field was fine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors {
    pub title: Option<String>,
    pub author: Option<String>,
    pub isbn: Option<String>,
    pub description: Option<String>,
    pub published_year: Option<String>,
}

impl FieldErrors {
    /// True when no field has an error.
    pub(crate) fn is_empty(&self) -> bool {
        self.messages().next().is_none()
    }

    /// The messages, in the form's order of fields.
    pub(crate) fn messages(&self) -> impl Iterator<Item = &str> {
        let FieldErrors {
            title,
            author,
            isbn,
            description,
            published_year,
        } = self;
        [title, author, isbn, description, published_year]
            .into_iter()
            .filter_map(Option::as_deref)
    }
}

impl BookForm {
    pub(crate) const TITLE_MAX_CHARS: usize = 200;
    pub(crate) const AUTHOR_MAX_CHARS: usize = 200;
    pub(crate) const DESCRIPTION_MAX_CHARS: usize = 5_000;
    /// Gutenberg's press; nothing printed earlier is a "published" book here.
    pub(crate) const MIN_YEAR: i32 = 1450;

    /// Checks every field and reports every problem at once.
    ///
    /// `this_year` is passed in (rather than read from the clock) so the
    /// rule is testable; a year up to `this_year + 1` is accepted, for
    /// books announced ahead of publication.
    pub fn parse(input: &BookFormInput, this_year: i32) -> Result<BookForm, FieldErrors> {
        let mut errors = FieldErrors::default();

        let title = required_line(input.title.as_deref(), "title", Self::TITLE_MAX_CHARS)
            .map_err(|e| errors.title = Some(e))
            .ok();
        let author = required_line(input.author.as_deref(), "author", Self::AUTHOR_MAX_CHARS)
            .map_err(|e| errors.author = Some(e))
            .ok();
        let isbn = optional_isbn(input.isbn.as_deref())
            .map_err(|e| errors.isbn = Some(e))
            .ok();
        let description = parse_description(input.description.as_deref())
            .map_err(|e| errors.description = Some(e))
            .ok();
        let published_year = optional_year(input.published_year.as_deref(), this_year)
            .map_err(|e| errors.published_year = Some(e))
            .ok();

        match (title, author, isbn, description, published_year) {
            (Some(title), Some(author), Some(isbn), Some(description), Some(published_year))
                if errors.is_empty() =>
            {
                Ok(BookForm {
                    title,
                    author,
                    isbn,
                    description,
                    published_year,
                })
            }
            _ => Err(errors),
        }
    }
}

/// True when `s` has more than `max` chars, looking at no more than `max + 1`.
fn longer_than(s: &str, max: usize) -> bool {
    s.chars().nth(max).is_some()
}

/// A required one-line text field (title, author).
fn required_line(raw: Option<&str>, name: &str, max_chars: usize) -> Result<String, String> {
    let value = raw.unwrap_or("").trim();
    if value.is_empty() {
        return Err(format!("{name} is required"));
    }
    if longer_than(value, max_chars) {
        return Err(format!("{name} must be at most {max_chars} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!("{name} must not contain control characters"));
    }
    Ok(value.to_owned())
}

fn optional_isbn(raw: Option<&str>) -> Result<Option<Isbn>, String> {
    let value = raw.unwrap_or("").trim();
    if value.is_empty() {
        return Ok(None);
    }
    Isbn::parse(value).map(Some)
}

/// Optional free text. Besides the length, control characters other than
/// line breaks and tabs are refused: a NUL, for one, cannot be stored in a
/// `PostgreSQL` `text` column. (`\r` is allowed: browsers send textarea line
/// breaks as CRLF.)
fn parse_description(raw: Option<&str>) -> Result<String, String> {
    let value = raw.unwrap_or("").trim();
    if longer_than(value, BookForm::DESCRIPTION_MAX_CHARS) {
        return Err("description must be at most 5,000 characters".to_owned());
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("description must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

fn optional_year(raw: Option<&str>, this_year: i32) -> Result<Option<i32>, String> {
    let value = raw.unwrap_or("").trim();
    if value.is_empty() {
        return Ok(None);
    }
    let max = this_year.saturating_add(1);
    let message = || {
        format!(
            "year must be a whole number from {} to {max}",
            BookForm::MIN_YEAR
        )
    };
    // ASCII digits only (no sign, exponent, decimal point or other scripts'
    // digits), and at most 9 of them so the parse cannot overflow an i32.
    if value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(message());
    }
    match value.parse::<i32>() {
        Ok(year) if (BookForm::MIN_YEAR..=max).contains(&year) => Ok(Some(year)),
        _ => Err(message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The form input that would parse back to `form` (what an edit form
    /// pre-filled from it posts).
    fn to_input(form: &BookForm) -> BookFormInput {
        BookFormInput {
            title: Some(form.title.clone()),
            author: Some(form.author.clone()),
            isbn: form.isbn.as_ref().map(|isbn| isbn.as_str().to_owned()),
            description: Some(form.description.clone()),
            published_year: form.published_year.map(|year| year.to_string()),
            csrf_token: None,
        }
    }

    const THIS_YEAR: i32 = 2026;
    const YEAR_MESSAGE: &str = "year must be a whole number from 1450 to 2027";

    fn input(
        title: &str,
        author: &str,
        isbn: &str,
        description: &str,
        year: &str,
    ) -> BookFormInput {
        BookFormInput {
            title: Some(title.to_owned()),
            author: Some(author.to_owned()),
            isbn: Some(isbn.to_owned()),
            description: Some(description.to_owned()),
            published_year: Some(year.to_owned()),
            csrf_token: Some("token".to_owned()),
        }
    }

    fn valid() -> BookFormInput {
        input(
            "The C Programming Language",
            "Brian W. Kernighan, Dennis M. Ritchie",
            "978-0-13-110362-7",
            "The classic.",
            "1988",
        )
    }

    fn errors_of(input: &BookFormInput) -> FieldErrors {
        match BookForm::parse(input, THIS_YEAR) {
            Ok(form) => panic!("{input:?} should fail, parsed as {form:?}"),
            Err(errors) => errors,
        }
    }

    fn year_of(raw: &str) -> Result<Option<i32>, String> {
        let mut i = valid();
        i.published_year = Some(raw.to_owned());
        BookForm::parse(&i, THIS_YEAR)
            .map(|form| form.published_year)
            .map_err(|errors| {
                assert_eq!(
                    errors,
                    FieldErrors {
                        published_year: errors.published_year.clone(),
                        ..FieldErrors::default()
                    },
                    "only the year should be wrong"
                );
                errors.published_year.unwrap()
            })
    }

    #[test]
    fn a_full_valid_form_parses() {
        let form = BookForm::parse(&valid(), THIS_YEAR).unwrap();
        assert_eq!(
            form,
            BookForm {
                title: "The C Programming Language".to_owned(),
                author: "Brian W. Kernighan, Dennis M. Ritchie".to_owned(),
                isbn: Some(Isbn::parse("9780131103627").unwrap()),
                description: "The classic.".to_owned(),
                published_year: Some(1988),
            }
        );
        assert_eq!(form.isbn.unwrap().as_str(), "9780131103627");
    }

    #[test]
    fn only_title_and_author_are_required() {
        let minimal = BookFormInput {
            title: Some("Dune".to_owned()),
            author: Some("Frank Herbert".to_owned()),
            ..BookFormInput::default()
        };
        let form = BookForm::parse(&minimal, THIS_YEAR).unwrap();
        assert_eq!(form.isbn, None);
        assert_eq!(form.description, "");
        assert_eq!(form.published_year, None);

        // Optional fields posted empty or blank are the same as absent.
        let blank = input("Dune", "Frank Herbert", "  ", " \r\n ", "\t");
        assert_eq!(BookForm::parse(&blank, THIS_YEAR).unwrap(), form);
        let empty = input("Dune", "Frank Herbert", "", "", "");
        assert_eq!(BookForm::parse(&empty, THIS_YEAR).unwrap(), form);
    }

    #[test]
    fn text_is_trimmed() {
        let form = BookForm::parse(
            &input(
                "  Dune \n",
                "\tFrank Herbert ",
                " 0-306-40615-2 ",
                "\n  Spice.\r\n\r\nWorms.  \n",
                " 1965 ",
            ),
            THIS_YEAR,
        )
        .unwrap();
        assert_eq!(form.title, "Dune");
        assert_eq!(form.author, "Frank Herbert");
        assert_eq!(form.isbn.unwrap().as_str(), "0306406152");
        assert_eq!(form.description, "Spice.\r\n\r\nWorms.");
        assert_eq!(form.published_year, Some(1965));
    }

    #[test]
    fn missing_fields_are_messages_not_failures() {
        let errors = errors_of(&BookFormInput::default());
        assert_eq!(errors.title.as_deref(), Some("title is required"));
        assert_eq!(errors.author.as_deref(), Some("author is required"));
        assert_eq!(errors.isbn, None);
        assert_eq!(errors.description, None);
        assert_eq!(errors.published_year, None);
        assert!(!errors.is_empty());
    }

    #[test]
    fn blank_title_and_author_are_required() {
        let errors = errors_of(&input(" \t\n ", "\u{3000}\u{a0}", "", "", ""));
        assert_eq!(errors.title.as_deref(), Some("title is required"));
        assert_eq!(errors.author.as_deref(), Some("author is required"));
    }

    #[test]
    fn title_and_author_length_counts_characters_not_bytes() {
        let at_limit = "é".repeat(200); // 400 bytes
        let over = "é".repeat(201);
        let ok = input(&at_limit, &at_limit, "", "", "");
        let form = BookForm::parse(&ok, THIS_YEAR).unwrap();
        assert_eq!(form.title.chars().count(), 200);

        let errors = errors_of(&input(&over, &over, "", "", ""));
        assert_eq!(
            errors.title.as_deref(),
            Some("title must be at most 200 characters")
        );
        assert_eq!(
            errors.author.as_deref(),
            Some("author must be at most 200 characters")
        );

        // Surrounding whitespace does not count towards the limit.
        let padded = format!("   {}   ", "a".repeat(200));
        assert!(BookForm::parse(&input(&padded, "A", "", "", ""), THIS_YEAR).is_ok());

        // A huge title is refused, not processed at length.
        let huge = "x".repeat(1_000_000);
        let errors = errors_of(&input(&huge, "A", "", "", ""));
        assert!(errors.title.unwrap().contains("at most 200"));
    }

    #[test]
    fn control_characters_in_title_and_author_are_rejected() {
        for bad in [
            "Du\u{0}ne",
            "Du\rne",
            "Du\u{7}ne",
            "Du\u{1b}[31mne",
            "Du\u{7f}ne",
            "Du\u{85}ne",
        ] {
            let errors = errors_of(&input(bad, bad, "", "", ""));
            assert_eq!(
                errors.title.as_deref(),
                Some("title must not contain control characters"),
                "{bad:?}"
            );
            assert_eq!(
                errors.author.as_deref(),
                Some("author must not contain control characters"),
                "{bad:?}"
            );
        }
        // Newline and tab inside are allowed.
        let form = BookForm::parse(&input("A\nB", "C\tD", "", "", ""), THIS_YEAR).unwrap();
        assert_eq!(form.title, "A\nB");
        assert_eq!(form.author, "C\tD");
        // Non-ASCII text is fine.
        let form =
            BookForm::parse(&input("Война и мир", "Лев Толстой", "", "", ""), THIS_YEAR).unwrap();
        assert_eq!(form.title, "Война и мир");
    }

    #[test]
    fn description_length_and_characters() {
        let at_limit = "ж".repeat(5_000);
        let mut i = valid();
        i.description = Some(format!("  {at_limit}\n"));
        assert_eq!(
            BookForm::parse(&i, THIS_YEAR).unwrap().description,
            at_limit
        );

        i.description = Some("ж".repeat(5_001));
        let errors = errors_of(&i);
        assert_eq!(
            errors.description.as_deref(),
            Some("description must be at most 5,000 characters")
        );
        assert_eq!(
            errors,
            FieldErrors {
                description: errors.description.clone(),
                ..FieldErrors::default()
            }
        );

        i.description = Some("nul\u{0}byte".to_owned());
        assert_eq!(
            errors_of(&i).description.as_deref(),
            Some("description must not contain control characters")
        );

        i.description = Some("line one\r\nline two\n\tindented".to_owned());
        assert!(BookForm::parse(&i, THIS_YEAR).is_ok());
    }

    #[test]
    fn isbn_is_optional_but_checked_when_given() {
        let mut i = valid();
        i.isbn = None;
        assert_eq!(BookForm::parse(&i, THIS_YEAR).unwrap().isbn, None);

        i.isbn = Some("0-8044-2957-x".to_owned());
        assert_eq!(
            BookForm::parse(&i, THIS_YEAR)
                .unwrap()
                .isbn
                .unwrap()
                .as_str(),
            "080442957X"
        );

        i.isbn = Some("978-0-13-110362-0".to_owned());
        assert_eq!(
            errors_of(&i).isbn.as_deref(),
            Some("this ISBN's check digit is wrong")
        );

        i.isbn = Some("12345".to_owned());
        assert_eq!(
            errors_of(&i).isbn.as_deref(),
            Some("ISBN must have 10 or 13 digits")
        );

        i.isbn = Some("ISBN: 9780131103627".to_owned());
        assert!(errors_of(&i).isbn.unwrap().contains("only digits"));
    }

    #[test]
    fn years_in_range_are_accepted() {
        assert_eq!(year_of("1450"), Ok(Some(1450)));
        assert_eq!(year_of("1988"), Ok(Some(1988)));
        assert_eq!(year_of("2026"), Ok(Some(2026)));
        assert_eq!(year_of("2027"), Ok(Some(2027)));
        assert_eq!(year_of(" 2001\n"), Ok(Some(2001)));
        assert_eq!(year_of("01999"), Ok(Some(1999)));
        assert_eq!(year_of(""), Ok(None));
        assert_eq!(year_of("   "), Ok(None));
    }

    #[test]
    fn bad_years_get_one_clear_message() {
        for bad in [
            "1449",
            "2028",
            "0",
            "-1500",
            "+2000",
            "2000.0",
            "2,000",
            "2 000",
            "1e3",
            "2e3",
            "0x7d0",
            "MMXX",
            "nineteen",
            "99999999999999999999",
            "2147483647",
            "2147483648",
            "-2147483648",
            "２０２０", // full-width digits
            "२०२०",     // Devanagari digits
            "1999\u{0}",
        ] {
            assert_eq!(year_of(bad), Err(YEAR_MESSAGE.to_owned()), "{bad:?}");
        }
        let huge = "9".repeat(100_000);
        assert_eq!(year_of(&huge), Err(YEAR_MESSAGE.to_owned()));
    }

    #[test]
    fn the_upper_year_follows_this_year() {
        let mut i = valid();
        i.published_year = Some("2031".to_owned());
        assert!(BookForm::parse(&i, 2030).is_ok());
        let errors = BookForm::parse(&i, 2029).unwrap_err();
        assert_eq!(
            errors.published_year.as_deref(),
            Some("year must be a whole number from 1450 to 2030")
        );
    }

    #[test]
    fn extreme_this_year_does_not_panic() {
        let mut i = valid();
        i.published_year = Some("2000".to_owned());
        assert!(BookForm::parse(&i, i32::MAX).is_ok());
        assert!(BookForm::parse(&i, i32::MIN).is_err());
        i.published_year = Some("999999999".to_owned());
        assert!(BookForm::parse(&i, i32::MAX).is_ok());
    }

    #[test]
    fn all_errors_are_reported_together() {
        let errors = errors_of(&input("", "\u{0}", "123", &"d".repeat(5_001), "1e3"));
        assert_eq!(
            errors,
            FieldErrors {
                title: Some("title is required".to_owned()),
                author: Some("author must not contain control characters".to_owned()),
                isbn: Some("ISBN must have 10 or 13 digits".to_owned()),
                description: Some("description must be at most 5,000 characters".to_owned()),
                published_year: Some(YEAR_MESSAGE.to_owned()),
            }
        );
    }

    #[test]
    fn one_bad_field_leaves_the_others_unflagged() {
        let mut i = valid();
        i.author = Some(String::new());
        assert_eq!(
            errors_of(&i),
            FieldErrors {
                author: Some("author is required".to_owned()),
                ..FieldErrors::default()
            }
        );
    }

    #[test]
    fn field_errors_is_empty() {
        assert!(FieldErrors::default().is_empty());
        let each: [fn(&mut FieldErrors); 5] = [
            |e| e.title = Some("x".into()),
            |e| e.author = Some("x".into()),
            |e| e.isbn = Some("x".into()),
            |e| e.description = Some("x".into()),
            |e| e.published_year = Some("x".into()),
        ];
        for set in each {
            let mut errors = FieldErrors::default();
            set(&mut errors);
            assert!(!errors.is_empty(), "{errors:?}");
        }
    }

    #[test]
    fn csrf_token_is_not_part_of_the_book() {
        let mut a = valid();
        let mut b = valid();
        a.csrf_token = None;
        b.csrf_token = Some("other".to_owned());
        assert_eq!(
            BookForm::parse(&a, THIS_YEAR).unwrap(),
            BookForm::parse(&b, THIS_YEAR).unwrap()
        );
    }

    #[test]
    fn to_input_round_trips() {
        let forms = [
            BookForm::parse(&valid(), THIS_YEAR).unwrap(),
            BookForm::parse(
                &input("  Dune ", "Frank Herbert", "0-8044-2957-x", "", ""),
                THIS_YEAR,
            )
            .unwrap(),
            BookForm::parse(
                &BookFormInput {
                    title: Some("T".into()),
                    author: Some("A".into()),
                    ..BookFormInput::default()
                },
                THIS_YEAR,
            )
            .unwrap(),
        ];
        for form in forms {
            let input = to_input(&form);
            assert_eq!(input.csrf_token, None);
            assert_eq!(BookForm::parse(&input, THIS_YEAR), Ok(form));
        }

        let input = to_input(&BookForm::parse(&valid(), THIS_YEAR).unwrap());
        assert_eq!(input.title.as_deref(), Some("The C Programming Language"));
        assert_eq!(input.isbn.as_deref(), Some("9780131103627"));
        assert_eq!(input.published_year.as_deref(), Some("1988"));
        assert_eq!(input.description.as_deref(), Some("The classic."));
    }

    /// Each rule the admin's form shows, one bad field at a time (the cases
    /// the HTTP test of the form used to post one by one): the message is
    /// on that field alone.
    #[test]
    fn each_bad_field_alone_gets_its_own_message() {
        const ISBN_CHARS: &str =
            "ISBN may contain only digits, hyphens and spaces (and X at the end of an ISBN-10)";
        let long = "x".repeat(201);
        let too_long_description = "d".repeat(5_001);
        let cases: [(&str, &str, &str); 13] = [
            ("title", "   ", "title is required"),
            ("title", &long, "title must be at most 200 characters"),
            ("author", "", "author is required"),
            ("author", &long, "author must be at most 200 characters"),
            (
                "description",
                &too_long_description,
                "description must be at most 5,000 characters",
            ),
            ("published_year", "1449", YEAR_MESSAGE),
            ("published_year", "3000", YEAR_MESSAGE),
            ("published_year", "abc", YEAR_MESSAGE),
            ("published_year", "99999999999999999999", YEAR_MESSAGE),
            (
                "isbn",
                "978-0-306-40615-8",
                "this ISBN's check digit is wrong",
            ),
            ("isbn", "0-306-40615-3", "this ISBN's check digit is wrong"),
            ("isbn", "12345", "ISBN must have 10 or 13 digits"),
            ("isbn", "97803064061X7", ISBN_CHARS),
        ];
        for (field, value, message) in cases {
            let mut i = input(
                "Typed Title",
                "Typed Author",
                "",
                "Typed description",
                "2001",
            );
            let slot = match field {
                "title" => &mut i.title,
                "author" => &mut i.author,
                "isbn" => &mut i.isbn,
                "description" => &mut i.description,
                _ => &mut i.published_year,
            };
            *slot = Some(value.to_owned());
            let mut expected = FieldErrors::default();
            let slot = match field {
                "title" => &mut expected.title,
                "author" => &mut expected.author,
                "isbn" => &mut expected.isbn,
                "description" => &mut expected.description,
                _ => &mut expected.published_year,
            };
            *slot = Some(message.to_owned());
            assert_eq!(errors_of(&i), expected, "{field}={value:.30}");
        }
    }

    #[test]
    fn input_deserializes_with_missing_and_extra_fields() {
        let i: BookFormInput = serde_json::from_str("{}").unwrap();
        assert!(i.title.is_none() && i.csrf_token.is_none());

        let i: BookFormInput = serde_json::from_str(
            r#"{"title":"Dune","author":"Frank Herbert","csrf_token":"t","submit":"Save"}"#,
        )
        .unwrap();
        assert_eq!(i.title.as_deref(), Some("Dune"));
        assert_eq!(i.csrf_token.as_deref(), Some("t"));
        assert!(BookForm::parse(&i, THIS_YEAR).is_ok());
    }
}
