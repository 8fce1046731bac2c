//! `multipart/form-data` (RFC 7578) as a browser posts one small form with
//! a file: read from a body already in memory, bounded in parts.

/// One part of the form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) data: &'a [u8],
}

/// The most parts a form may have (folio's upload form has two).
const MAX_PARTS: usize = 8;

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        // RFC 2046: 1 to 70 characters.
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at + needle.len() <= haystack.len() {
        let next = haystack[at..].iter().position(|&b| b == first)? + at;
        if haystack[next..].starts_with(needle) {
            return Some(next);
        }
        at = next + 1;
    }
    None
}

/// A header parameter such as `name="file"`.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`, or why it is not a well-formed form.
pub(crate) fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let malformed = || "the upload is not a well-formed multipart form".to_owned();
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, opening.as_bytes(), 0).ok_or_else(malformed)? + opening.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(malformed());
        }
        if parts.len() == MAX_PARTS {
            return Err(format!("the form has more than {MAX_PARTS} parts"));
        }
        let start = at + 2;
        let end = find(body, delimiter.as_bytes(), start).ok_or_else(malformed)?;
        let part = &body[start..end];
        let split = find(part, b"\r\n\r\n", 0).ok_or_else(malformed)?;
        let headers = std::str::from_utf8(&part[..split]).map_err(|_| malformed())?;
        let disposition = headers
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(value)
            })
            .ok_or_else(malformed)?;
        parts.push(Part {
            name: parameter(disposition, "name").ok_or_else(malformed)?,
            filename: parameter(disposition, "filename"),
            data: &part[split + 4..],
        });
        at = end + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn a_browsers_form_with_a_file_is_read() {
        let ct = "multipart/form-data; boundary=----WebKitFormBoundaryX3";
        let b = boundary(ct).unwrap();
        let body = "------WebKitFormBoundaryX3\r\n\
             Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\
             abc\r\n\
             ------WebKitFormBoundaryX3\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"books.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n\
             title,author\r\nA,B\r\n\r\n\
             ------WebKitFormBoundaryX3--\r\n";
        let parts = parse(body.as_bytes(), &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf_token");
        assert_eq!(parts[0].data, b"abc");
        assert_eq!(parts[1].filename.as_deref(), Some("books.csv"));
        assert_eq!(parts[1].data, b"title,author\r\nA,B\r\n");
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert!(parse(b"no boundary here", "xyz").is_err());
        assert!(parse(b"--xyz\r\nno headers end", "xyz").is_err());
        let mut many = String::new();
        for i in 0..20 {
            let _ = write!(
                many,
                "--x\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n"
            );
        }
        many.push_str("--x--");
        assert!(parse(many.as_bytes(), "x")
            .unwrap_err()
            .contains("more than"));
    }
}
