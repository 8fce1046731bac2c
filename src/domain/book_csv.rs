//! Catalogue CSV files: folio's own export and a Goodreads library export,
//! told apart by their header, read row by row into books the form would
//! accept (or a `line N: reason` for each row it would not).

use std::collections::HashMap;
use std::io::Read;

use super::book_form::{BookForm, BookFormInput, FieldErrors};

/// folio's export header, in order (`folio export`, `/admin/export`).
pub(crate) const FOLIO_HEADER: [&str; 5] =
    ["title", "author", "isbn", "published_year", "description"];

/// The most rows one file may hold.
pub(crate) const MAX_ROWS: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsvFormat {
    Folio,
    Goodreads,
}

impl CsvFormat {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Folio => "folio export",
            Self::Goodreads => "Goodreads library export",
        }
    }
}

/// Which fields a row gives: a Goodreads row has no description, so an
/// import keeps the book's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Given {
    pub(crate) description: bool,
}

/// A row that is a valid book.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CsvBook {
    /// The line the row starts on (the header is line 1).
    pub(crate) line: u64,
    pub(crate) book: BookForm,
    pub(crate) given: Given,
}

/// A row that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowProblem {
    pub(crate) line: u64,
    pub(crate) reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The file as a whole cannot be imported: nothing is.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CsvError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "line 1: the header is neither folio's export ({}) nor a Goodreads library export \
         (Book Id,Title,Author,…,ISBN,ISBN13,…)",
        FOLIO_HEADER.join(",")
    )]
    UnknownHeader,
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("line {line}: the file could not be read as CSV: {reason}")]
    Unreadable { line: u64, reason: String },
}

/// The valid rows and the problems, in file order.
#[derive(Debug, Default)]
pub(crate) struct ParsedCsv {
    pub(crate) books: Vec<CsvBook>,
    pub(crate) problems: Vec<RowProblem>,
}

/// Column positions of the fields folio reads.
struct Columns {
    format: CsvFormat,
    title: usize,
    author: usize,
    isbn: Vec<usize>,
    years: Vec<usize>,
    description: Option<usize>,
}

impl Columns {
    fn detect(header: &[String]) -> Result<Self, CsvError> {
        let at: HashMap<&str, usize> = header
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim(), i))
            .collect();
        let get = |name: &str| at.get(name).copied();
        if let (Some(_), Some(title), Some(author)) = (get("Book Id"), get("Title"), get("Author"))
        {
            // ISBN13 first; the original publication's year first (an edition's
            // year is what Goodreads has when the original's is unknown).
            return Ok(Self {
                format: CsvFormat::Goodreads,
                title,
                author,
                isbn: [get("ISBN13"), get("ISBN")].into_iter().flatten().collect(),
                years: [get("Original Publication Year"), get("Year Published")]
                    .into_iter()
                    .flatten()
                    .collect(),
                description: None,
            });
        }
        let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        if names == FOLIO_HEADER {
            return Ok(Self {
                format: CsvFormat::Folio,
                title: 0,
                author: 1,
                isbn: vec![2],
                years: vec![3],
                description: Some(4),
            });
        }
        Err(CsvError::UnknownHeader)
    }
}

/// Goodreads writes ISBNs as `="0441013597"` (so spreadsheets keep the
/// leading zero); `=""` is none.
fn unwrap_spreadsheet_text(raw: &str) -> &str {
    let t = raw.trim();
    t.strip_prefix("=\"")
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
}

/// What a row's field errors say, in the form's words.
fn reasons(errors: &FieldErrors) -> String {
    errors.messages().collect::<Vec<_>>().join("; ")
}

/// Reads a whole file. `progress` is called with the number of rows read
/// so far, now and then.
pub(crate) fn parse(
    input: impl Read,
    this_year: i32,
    progress: &dyn Fn(u64),
) -> Result<(CsvFormat, ParsedCsv), CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(CsvError::Empty),
        Some(Err(e)) => {
            return Err(CsvError::Unreadable {
                line: 1,
                reason: e.to_string(),
            })
        }
        Some(Ok(h)) => h,
    };
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let text = String::from_utf8_lossy(f);
            // A byte-order mark before the first name (spreadsheets add one).
            match i {
                0 => text.trim_start_matches('\u{feff}').to_owned(),
                _ => text.into_owned(),
            }
        })
        .collect();
    let columns = Columns::detect(&header)?;
    let mut parsed = ParsedCsv::default();
    for (n, record) in records.enumerate() {
        if n >= MAX_ROWS {
            return Err(CsvError::TooManyRows);
        }
        let record = record.map_err(|e| CsvError::Unreadable {
            line: e.position().map_or(0, csv::Position::line),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(n as u64 + 2, csv::Position::line);
        if n.is_multiple_of(10_000) {
            progress(n as u64);
        }
        // A blank line at the end of a file, as editors leave.
        if record.len() <= 1 && record.get(0).is_none_or(<[u8]>::is_empty) {
            continue;
        }
        match row(&columns, &record, this_year) {
            Ok(book) => parsed.books.push(CsvBook {
                line,
                book,
                given: Given {
                    description: columns.description.is_some(),
                },
            }),
            Err(reason) => parsed.problems.push(RowProblem { line, reason }),
        }
    }
    Ok((columns.format, parsed))
}

fn row(columns: &Columns, record: &csv::ByteRecord, this_year: i32) -> Result<BookForm, String> {
    let field = |i: usize| -> Result<Option<&str>, String> {
        match record.get(i) {
            None => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| "the row is not valid UTF-8 text".to_owned()),
        }
    };
    if record.len() < columns.title.max(columns.author) + 1 {
        return Err(format!(
            "the row has {} fields, too few for a title and an author",
            record.len()
        ));
    }
    let mut isbn = None;
    for &i in &columns.isbn {
        let value = field(i)?.map_or("", unwrap_spreadsheet_text);
        if !value.is_empty() {
            isbn = Some(value.to_owned());
            break;
        }
    }
    let mut input = BookFormInput {
        title: field(columns.title)?.map(str::to_owned),
        author: field(columns.author)?.map(str::to_owned),
        isbn,
        description: match columns.description {
            Some(i) => field(i)?.map(str::to_owned),
            None => None,
        },
        published_year: None,
        csrf_token: None,
    };
    // The first year the form accepts (Goodreads gives the original's year
    // of a classic as, say, -380; then the edition's year is the one kept).
    let years: Vec<&str> = columns
        .years
        .iter()
        .map(|&i| field(i).map(|y| y.unwrap_or("").trim()))
        .collect::<Result<_, _>>()?;
    let years: Vec<&str> = years.into_iter().filter(|y| !y.is_empty()).collect();
    for (k, year) in years.iter().enumerate() {
        input.published_year = Some((*year).to_owned());
        match BookForm::parse(&input, this_year) {
            Ok(book) => return Ok(book),
            Err(e) if e.published_year.is_some() && k + 1 < years.len() => {}
            Err(e) => return Err(reasons(&e)),
        }
    }
    input.published_year = None;
    BookForm::parse(&input, this_year).map_err(|e| reasons(&e))
}

/// Writes books in folio's export format.
pub(crate) struct CsvWriter<W: std::io::Write>(csv::Writer<W>);

impl<W: std::io::Write> CsvWriter<W> {
    pub(crate) fn new(out: W) -> Result<Self, csv::Error> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(FOLIO_HEADER)?;
        Ok(Self(writer))
    }

    pub(crate) fn write(
        &mut self,
        title: &str,
        author: &str,
        isbn: Option<&str>,
        published_year: Option<i32>,
        description: &str,
    ) -> Result<(), csv::Error> {
        let year = published_year.map(|y| y.to_string()).unwrap_or_default();
        self.0.write_record([
            title,
            author,
            isbn.unwrap_or(""),
            year.as_str(),
            description,
        ])
    }

    pub(crate) fn finish(mut self) -> Result<W, csv::Error> {
        self.0.flush()?;
        self.0
            .into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOODREADS_HEADER: &str = "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies";

    fn parse_str(text: &str) -> Result<(CsvFormat, ParsedCsv), CsvError> {
        parse(text.as_bytes(), 2026, &|_| {})
    }

    #[test]
    fn a_goodreads_export_is_read_with_its_quirks() {
        let file = format!(
            "\u{feff}{GOODREADS_HEADER}\n\
             11,\"Dune (Dune, #1)\",Frank Herbert,\"Herbert, Frank\",,=\"0441013597\",=\"9780441013593\",5,4.25,Ace,Paperback,528,2005,1965,,2020/01/01,,,read,,,,1,0\n\
             12,The Republic,Plato,\"Plato, \",,=\"\",=\"\",0,3.9,Penguin,Paperback,416,2007,-380,,2020/01/01,,,read,,,,1,0\n\
             13,,Nobody,\"Nobody, \",,=\"\",=\"\",0,0,,,,,,,2020/01/01,,,read,,,,1,0\n"
        );
        let (format, parsed) = parse_str(&file).unwrap();
        assert_eq!(format, CsvFormat::Goodreads);
        assert_eq!(parsed.books.len(), 2);
        let dune = &parsed.books[0].book;
        assert_eq!(dune.title, "Dune (Dune, #1)");
        assert_eq!(dune.isbn.as_ref().unwrap().as_str(), "9780441013593");
        assert_eq!(dune.published_year, Some(1965));
        assert_eq!(parsed.books[0].line, 2);
        let republic = &parsed.books[1].book;
        assert_eq!(republic.isbn, None);
        assert_eq!(republic.published_year, Some(2007));
        assert!(!parsed.books[1].given.description);
        assert_eq!(
            parsed.problems,
            vec![RowProblem {
                line: 4,
                reason: "title is required".into()
            }]
        );
    }

    #[test]
    fn folio_exports_read_back_what_was_written() {
        let mut writer = CsvWriter::new(Vec::new()).unwrap();
        writer
            .write(
                "A, \"quoted\" title",
                "An Author",
                Some("0441013597"),
                Some(1965),
                "Two\nlines",
            )
            .unwrap();
        writer.write("Plain", "Someone", None, None, "").unwrap();
        let bytes = writer.finish().unwrap();
        let (format, parsed) = parse(&bytes[..], 2026, &|_| {}).unwrap();
        assert_eq!(format, CsvFormat::Folio);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.books[0].book.title, "A, \"quoted\" title");
        assert_eq!(parsed.books[0].book.description, "Two\nlines");
        // The second row starts on line 4: the first spans lines 2 and 3.
        assert_eq!(parsed.books[1].line, 4);
        assert_eq!(parsed.books[1].book.isbn, None);
    }

    #[test]
    fn an_unknown_header_or_an_empty_file_imports_nothing() {
        assert!(matches!(
            parse_str("name,writer\nx,y\n"),
            Err(CsvError::UnknownHeader)
        ));
        assert!(matches!(parse_str(""), Err(CsvError::Empty)));
    }

    #[test]
    fn bad_rows_say_their_line_and_why() {
        let file = "title,author,isbn,published_year,description\n\
                    Good,Someone,,,\n\
                    Bad isbn,Someone,12345,,\n\
                    Short\n\
                    Future,Someone,,3000,\n";
        let (_, parsed) = parse_str(file).unwrap();
        let lines: Vec<String> = parsed
            .problems
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            vec![
                "line 3: ISBN must have 10 or 13 digits",
                "line 4: the row has 1 fields, too few for a title and an author",
                "line 5: year must be a whole number from 1450 to 2027",
            ]
        );
        assert_eq!(parsed.books.len(), 1);
    }
}
