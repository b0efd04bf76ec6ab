//! HTTP/1.1 on one connection: reading a request's head and body within limits, and writing a
//! response.
//!
//! `serve` gives every connection its own thread that reads a request, has it answered and
//! writes the answer: one hand-over per request (to the bus thread and back). A general server
//! crate would add its own pool and queue between the socket and the handler, and with them a
//! second hand-over and a way for one connection to wait behind another.
//!
//! The readers are generic over [`BufRead`] so that tests and the fuzz target feed them bytes;
//! on a socket, [`Patient`] turns the socket's short read timeout into the connection's idle limit
//! and the request's deadline.

use std::io::{self, BufRead, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest request head (request line and headers) accepted; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields accepted; more gets 431.
pub const MAX_HEADERS: usize = 100;

/// A request line and its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `GET`, `POST`, ….
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// How the body is delimited.
    pub framing: Framing,
    /// The client waits for `100 Continue` before sending the body.
    pub expect_continue: bool,
    /// The connection may carry another request after this one.
    pub keep_alive: bool,
}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl Head {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The target's path, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The target's query, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Why a request head was not read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// Not HTTP/1.x, or framing that cannot be trusted: answered with 400, then closed.
    #[error("{0}")]
    Malformed(String),
    /// Over [`MAX_HEAD_BYTES`] or [`MAX_HEADERS`]: answered with 431, then closed.
    #[error("the request head is larger than {MAX_HEAD_BYTES} bytes or has more than {MAX_HEADERS} fields")]
    TooLarge,
    /// The connection ended or stalled mid-head: nothing to answer.
    #[error("reading the request head: {0}")]
    Io(#[from] io::Error),
}

/// Why a request body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the limit (declared or found while reading): answered with 413, then closed.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// A chunked body that does not parse: answered with 400, then closed.
    #[error("malformed chunked body: {0}")]
    Malformed(String),
    /// The connection ended or stalled mid-body: nothing to answer.
    #[error("reading the request body: {0}")]
    Io(io::Error),
}

/// Reads one request head. `Ok(None)` when the connection ended cleanly before one began.
///
/// # Errors
///
/// [`HeadError`]: what to answer, if anything.
pub fn read_head<R: BufRead>(reader: &mut R) -> Result<Option<Head>, HeadError> {
    let mut raw = Vec::new();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return if raw.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                Ok(None)
            } else {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed mid-head").into())
            };
        }
        let searched_from = raw.len().saturating_sub(3);
        let taken = available.len();
        raw.extend_from_slice(available);
        if let Some(at) = find(&raw[searched_from..], b"\r\n\r\n") {
            let end = searched_from + at + 4;
            reader.consume(taken - (raw.len() - end));
            raw.truncate(end);
            break;
        }
        reader.consume(taken);
        if raw.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
    }
    if raw.len() > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    parse_head(&raw)
}

fn parse_head(raw: &[u8]) -> Result<Option<Head>, HeadError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Malformed("incomplete request head".into())),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(e) => return Err(HeadError::Malformed(format!("malformed request head: {e}"))),
    }
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version) else {
        return Err(HeadError::Malformed("incomplete request line".into()));
    };
    let mut headers = Vec::with_capacity(request.headers.len());
    for field in request.headers.iter() {
        let Ok(value) = std::str::from_utf8(field.value) else {
            return Err(HeadError::Malformed(format!("header {} is not UTF-8", field.name)));
        };
        headers.push((field.name.to_string(), value.trim().to_string()));
    }
    // Absolute form (`POST http://host:4010/ HTTP/1.1`, as sent through a proxy): the path
    // is the target and the authority stands in for a missing Host.
    let (target, authority) = match target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        Some(rest) => {
            let (authority, path) = rest.find(['/', '?']).map_or((rest, "/"), |at| rest.split_at(at));
            let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
            (path, Some(authority))
        }
        None => (target.to_string(), None),
    };
    if let Some(authority) = authority
        && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        headers.push(("Host".into(), authority.to_string()));
    }
    let mut head = Head {
        method: method.to_string(),
        target,
        headers,
        framing: Framing::Empty,
        expect_continue: false,
        keep_alive: false,
    };
    let tokens = |name: &str| -> Vec<String> {
        head.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let connection = tokens("connection");
    let keep_alive = if minor >= 1 {
        !connection.iter().any(|t| t == "close")
    } else {
        connection.iter().any(|t| t == "keep-alive")
    };
    let expect_continue = tokens("expect").iter().any(|t| t == "100-continue");
    let codings = tokens("transfer-encoding");
    let lengths: Vec<&str> = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str())
        .collect();
    let framing = if !codings.is_empty() {
        // Both framings at once is how requests are smuggled past proxies: refuse.
        if !lengths.is_empty() {
            return Err(HeadError::Malformed("both Transfer-Encoding and Content-Length".into()));
        }
        if codings.as_slice() != ["chunked"] {
            return Err(HeadError::Malformed(format!("unsupported Transfer-Encoding {:?}", codings.join(", "))));
        }
        Framing::Chunked
    } else if let Some(first) = lengths.first() {
        let parse = |v: &str| v.bytes().all(|b| b.is_ascii_digit()).then(|| v.parse::<u64>().ok()).flatten();
        let Some(length) = parse(first) else {
            return Err(HeadError::Malformed(format!("invalid Content-Length {first:?}")));
        };
        if lengths.iter().any(|v| parse(v) != Some(length)) {
            return Err(HeadError::Malformed("conflicting Content-Length headers".into()));
        }
        if length == 0 { Framing::Empty } else { Framing::Length(length) }
    } else {
        Framing::Empty
    };
    head.framing = framing;
    head.keep_alive = keep_alive;
    head.expect_continue = expect_continue;
    Ok(Some(head))
}

/// Reads the body `head` announces, at most `max` bytes. Sends `100 Continue` on `interim` first
/// when the client asked for it and the declared length fits.
///
/// # Errors
///
/// [`BodyError`]: what to answer, if anything.
pub fn read_body<R: BufRead, W: Write>(
    head: &Head,
    reader: &mut R,
    interim: &mut W,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if let Framing::Length(n) = head.framing
        && n > max as u64
    {
        return Err(BodyError::TooLarge(max));
    }
    if head.expect_continue && head.framing != Framing::Empty {
        interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(BodyError::Io)?;
        interim.flush().map_err(BodyError::Io)?;
    }
    match head.framing {
        Framing::Empty => Ok(Vec::new()),
        Framing::Length(n) => {
            let mut body = Vec::with_capacity(n as usize);
            reader.take(n).read_to_end(&mut body).map_err(BodyError::Io)?;
            if (body.len() as u64) < n {
                return Err(BodyError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the body ended early")));
            }
            Ok(body)
        }
        Framing::Chunked => read_chunked(reader, max),
    }
}

/// Longest chunk-size line (size, extensions) or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;

fn read_chunked<R: BufRead>(reader: &mut R, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut line = Vec::new();
    loop {
        read_line(reader, &mut line)?;
        let text = std::str::from_utf8(&line).unwrap_or("");
        let size = text.split(';').next().unwrap_or("").trim();
        let Some(size) = (!size.is_empty() && size.len() <= 16).then(|| u64::from_str_radix(size, 16).ok()).flatten()
        else {
            return Err(BodyError::Malformed(format!("chunk size {:?}", String::from_utf8_lossy(&line))));
        };
        if size == 0 {
            break;
        }
        if body.len() as u64 + size > max as u64 {
            return Err(BodyError::TooLarge(max));
        }
        let before = body.len();
        reader.take(size).read_to_end(&mut body).map_err(BodyError::Io)?;
        if ((body.len() - before) as u64) < size {
            return Err(BodyError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the body ended mid-chunk")));
        }
        read_line(reader, &mut line)?;
        if !line.is_empty() {
            return Err(BodyError::Malformed("no line break after a chunk's data".into()));
        }
    }
    // Trailer fields, ignored, up to the empty line.
    for _ in 0..MAX_HEADERS {
        read_line(reader, &mut line)?;
        if line.is_empty() {
            return Ok(body);
        }
    }
    Err(BodyError::Malformed("too many trailer fields".into()))
}

/// One line without its line break (CRLF or a bare LF), at most [`MAX_CHUNK_LINE`] bytes.
fn read_line<R: BufRead>(reader: &mut R, line: &mut Vec<u8>) -> Result<(), BodyError> {
    line.clear();
    let read = reader.take(MAX_CHUNK_LINE as u64 + 1).read_until(b'\n', line).map_err(BodyError::Io)?;
    if line.last() != Some(&b'\n') {
        return Err(if read > MAX_CHUNK_LINE {
            BodyError::Malformed("a chunk line is too long".into())
        } else {
            BodyError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the body ended mid-line"))
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A response's status line, headers and body in one buffer, written with one call.
///
/// `headers` are extra fields; `Content-Type`, `Content-Length` and (when closing) `Connection:
/// close` are added here.
pub fn response_bytes(status: u16, content_type: &str, headers: &[(&str, &str)], body: &[u8], close: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + body.len());
    let _ = write!(out, "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n", reason(status));
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n", body.len());
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The reason phrase for the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// How long a connection waits for its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// Between requests, for the next one to begin.
    pub idle: Duration,
    /// For a request that has begun to arrive whole.
    pub request: Duration,
    /// Once the server is stopping, for a request that has begun (counted from its start).
    pub after_stop: Duration,
}

/// A socket reader that waits through the socket's short read timeout until its limit: between
/// requests, until the idle limit passes or the server stops (then it reports the connection
/// aborted); within a request, until the request's deadline, shorter once the server stops
/// (then it reports a timeout).
///
/// The socket's own timeout is only the tick at which these limits are checked.
pub struct Patient<'a, R> {
    inner: R,
    stop: &'a AtomicBool,
    waits: Waits,
    /// When the current wait began and whether a request has started since.
    since: Instant,
    started: bool,
}

impl<'a, R: BufRead> Patient<'a, R> {
    /// Wraps `inner` (a buffered socket with a read timeout set).
    pub fn new(inner: R, stop: &'a AtomicBool, waits: Waits) -> Self {
        Patient { inner, stop, waits, since: Instant::now(), started: false }
    }

    /// Marks the gap before the next request: the idle limit applies until its first byte.
    pub fn await_request(&mut self) {
        self.since = Instant::now();
        self.started = false;
    }

    /// Whether bytes of the current request have arrived.
    pub fn started(&self) -> bool {
        self.started
    }

    fn wait(&mut self, error: io::Error) -> io::Result<()> {
        if !matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted) {
            return Err(error);
        }
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(());
        }
        let stopping = self.stop.load(Ordering::Relaxed);
        if !self.started {
            if stopping || self.since.elapsed() > self.waits.idle {
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "idle connection closed"));
            }
        } else {
            let limit = if stopping { self.waits.request.min(self.waits.after_stop) } else { self.waits.request };
            if self.since.elapsed() > limit {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "the request did not arrive in time"));
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Patient<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Patient<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) => self.wait(e)?,
            }
        }
        let available = self.inner.fill_buf()?;
        if !available.is_empty() && !self.started {
            self.started = true;
            self.since = Instant::now();
        }
        Ok(available)
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Option<Head>, HeadError> {
        read_head(&mut raw.as_bytes())
    }

    fn request(raw: &[u8], max: usize) -> (Head, Result<Vec<u8>, BodyError>, Vec<u8>) {
        let mut reader = raw;
        let head = read_head(&mut reader).expect("head").expect("a request");
        let mut interim = Vec::new();
        let body = read_body(&head, &mut reader, &mut interim, max);
        (head, body, interim)
    }

    #[test]
    fn reads_a_content_length_body_and_leaves_the_next_request() {
        let raw = b"POST /?x=1 HTTP/1.1\r\nHost: h\r\nX-Amz-Target: AWSEvents.PutEvents\r\nContent-Length: 5\r\n\r\nhelloGET /health HTTP/1.1\r\n\r\n";
        let mut reader = &raw[..];
        let first = read_head(&mut reader).unwrap().unwrap();
        assert_eq!((first.method.as_str(), first.path(), first.query()), ("POST", "/", "x=1"));
        assert_eq!(first.header("x-amz-target"), Some("AWSEvents.PutEvents"));
        assert!(first.keep_alive);
        let body = read_body(&first, &mut reader, &mut Vec::new(), 100).unwrap();
        assert_eq!(body, b"hello");
        let second = read_head(&mut reader).unwrap().unwrap();
        assert_eq!((second.method.as_str(), second.target.as_str()), ("GET", "/health"));
        assert!(read_head(&mut reader).unwrap().is_none(), "clean end after the last request");
    }

    #[test]
    fn decodes_chunked_bodies_with_extensions_and_trailers() {
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n";
        let (_, body, _) = request(raw, 100);
        assert_eq!(body.unwrap(), b"Wikipedia");
        let (_, body, _) = request(raw, 8);
        assert!(matches!(body, Err(BodyError::TooLarge(8))));
        let bad = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(request(bad, 100).1, Err(BodyError::Malformed(_))));
        let cut = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc";
        assert!(matches!(request(cut, 100).1, Err(BodyError::Io(_))));
    }

    #[test]
    fn refuses_a_declared_length_over_the_limit_without_reading_or_continuing() {
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n";
        let (_, body, interim) = request(raw, 999);
        assert!(matches!(body, Err(BodyError::TooLarge(999))));
        assert!(interim.is_empty(), "no 100 Continue for a body that will be refused");
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc";
        let (_, body, interim) = request(raw, 999);
        assert_eq!(body.unwrap(), b"abc");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn a_short_body_is_an_io_error_not_a_request() {
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
        assert!(matches!(request(raw, 100).1, Err(BodyError::Io(_))));
    }

    #[test]
    fn an_absolute_form_target_becomes_a_path_and_a_host() {
        let h = head("POST http://127.0.0.1:4010/twilio/events?bodySHA256=ab HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!(
            (h.path(), h.query(), h.header("host")),
            ("/twilio/events", "bodySHA256=ab", Some("127.0.0.1:4010"))
        );
        let h = head("GET https://example.com HTTP/1.1\r\nHost: other\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.target.as_str(), h.header("host")), ("/", Some("other")));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        assert!(!head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap().unwrap().keep_alive);
        assert!(!head("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().unwrap().keep_alive);
    }

    #[test]
    fn refuses_ambiguous_framing_and_garbage() {
        for raw in [
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "{\"Entries\": []}\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
        ] {
            assert!(matches!(head(raw), Err(HeadError::Malformed(_))), "{raw:?}");
        }
    }

    #[test]
    fn refuses_oversized_heads() {
        let long = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert!(matches!(head(&long), Err(HeadError::TooLarge)));
        let endless = format!("GET / HTTP/1.1\r\nX-Long: {}", "a".repeat(MAX_HEAD_BYTES * 2));
        assert!(matches!(head(&endless), Err(HeadError::TooLarge)));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert!(matches!(head(&format!("GET / HTTP/1.1\r\n{many}\r\n")), Err(HeadError::TooLarge)));
    }

    #[test]
    fn a_head_cut_short_is_an_io_error_and_silence_is_a_clean_end() {
        assert!(matches!(head("GET / HTTP/1.1\r\nHost"), Err(HeadError::Io(_))));
        assert!(head("").unwrap().is_none());
        assert!(head("\r\n").unwrap().is_none());
    }

    #[test]
    fn response_bytes_frame_the_body() {
        let out = response_bytes(413, "application/json", &[("x-amzn-RequestId", "r1")], b"{}", true);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\nx-amzn-RequestId: r1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
    }
}
