//! One HTTP/1.1 connection from the bootstrap, on a non-blocking socket:
//! requests parsed as bytes arrive (keep-alive, pipelining, `Content-Length`
//! or chunked bodies, `Expect: 100-continue`), one request held at a time
//! until it is answered (a `next` may be held for as long as the function is
//! idle), and answers written as the socket takes them. A body over
//! `max_body` is read and dropped, never kept: the request then arrives as
//! `Body::TooLarge` and is answered 413, as Lambda does.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

/// Most bytes of request line and headers.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most unparsed bytes kept while a request is held (a client that pipelines more is cut off).
const MAX_HELD_INPUT: usize = 64 * 1024;
const READ_CHUNK: usize = 64 * 1024;

pub enum Body {
    Bytes(Vec<u8>),
    TooLarge,
}

pub struct Request {
    pub method: String,
    pub path: String,
    /// `Lambda-Runtime-Function-Error-Type`, if sent.
    pub error_type: Option<String>,
    pub body: Body,
}

/// What reading the socket produced.
pub enum Pumped {
    Request(Request),
    /// Nothing more to do until the socket is readable (or the held request is answered).
    Idle,
    /// The peer closed, or the connection is beyond repair (already answered if it could be).
    Closed,
}

enum Framing {
    Length(usize),
    Chunked(Chunk),
}

#[derive(Clone, Copy)]
enum Chunk {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
}

struct Pending {
    method: String,
    path: String,
    error_type: Option<String>,
    framing: Framing,
    body: Vec<u8>,
    too_large: bool,
}

pub struct Conn {
    pub stream: TcpStream,
    input: Vec<u8>,
    pending: Option<Pending>,
    out: Vec<u8>,
    written: usize,
    /// A request was handed out and not yet answered.
    pub held: bool,
    close_after_answer: bool,
    closing: bool,
    max_body: usize,
}

impl Conn {
    pub fn new(stream: TcpStream, max_body: usize) -> Self {
        let _ = stream.set_nodelay(true);
        Conn { stream, input: Vec::new(), pending: None, out: Vec::new(), written: 0, held: false, close_after_answer: false, closing: false, max_body }
    }

    /// Parses what is buffered and reads more, until a request is complete or the socket has nothing.
    pub fn pump(&mut self) -> Pumped {
        loop {
            if self.closing {
                return if self.wants_write() { Pumped::Idle } else { Pumped::Closed };
            }
            if !self.held {
                match self.parse() {
                    Ok(Some(request)) => {
                        self.held = true;
                        return Pumped::Request(request);
                    }
                    Ok(None) => {}
                    Err((status, message)) => {
                        // The stream's framing is lost: answer, then close.
                        self.close_after_answer = true;
                        self.answer_error(status, "InvalidRequest", message);
                        continue;
                    }
                }
            } else if self.input.len() >= MAX_HELD_INPUT {
                return Pumped::Closed;
            }
            let start = self.input.len();
            self.input.resize(start + READ_CHUNK, 0);
            let read = self.stream.read(&mut self.input[start..]);
            self.input.truncate(start + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return Pumped::Closed,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Pumped::Idle,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Pumped::Closed,
            }
        }
    }

    /// Answers the held request.
    pub fn answer(&mut self, status: u16, headers: &[(&str, String)], body: &[u8]) {
        let mut head = format!("HTTP/1.1 {} {}\r\nContent-Length: {}\r\n", status, reason(status), body.len());
        for (name, value) in headers {
            // Values come from the worker's messages: never let one end the header block.
            let clean: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            head.push_str(&format!("{name}: {clean}\r\n"));
        }
        if self.close_after_answer {
            head.push_str("Connection: close\r\n");
            self.closing = true;
        }
        head.push_str("\r\n");
        self.out.extend_from_slice(head.as_bytes());
        self.out.extend_from_slice(body);
        self.held = false;
        self.flush();
    }

    /// Answers with Lambda's error shape, `{"errorMessage","errorType"}`.
    pub fn answer_error(&mut self, status: u16, error_type: &str, message: &str) {
        let body = format!("{{\"errorMessage\":{},\"errorType\":{}}}", crate::json::quote(message), crate::json::quote(error_type));
        self.answer(status, &[("Content-Type", "application/json".into())], body.as_bytes());
    }

    /// Whether reading makes sense: not once the connection only waits to finish writing before it closes.
    pub fn wants_read(&self) -> bool {
        !self.closing
    }

    pub fn wants_write(&self) -> bool {
        self.written < self.out.len()
    }

    /// Writes what the socket takes now; false when the connection is gone.
    pub fn flush(&mut self) -> bool {
        while self.wants_write() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return false,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.out.clear();
        self.written = 0;
        true
    }

    /// True when everything is written and the connection was to close after it.
    pub fn finished(&self) -> bool {
        self.closing && !self.wants_write()
    }

    fn parse(&mut self) -> Result<Option<Request>, (u16, &'static str)> {
        if self.pending.is_none() && !self.parse_head()? {
            return Ok(None);
        }
        let done = self.parse_body()?;
        if !done {
            return Ok(None);
        }
        let p = self.pending.take().expect("pending request");
        let body = if p.too_large { Body::TooLarge } else { Body::Bytes(p.body) };
        Ok(Some(Request { method: p.method, path: p.path, error_type: p.error_type, body }))
    }

    fn parse_head(&mut self) -> Result<bool, (u16, &'static str)> {
        // Blank lines before a request line are allowed (RFC 9112 2.2).
        while self.input.starts_with(b"\r\n") {
            self.input.drain(..2);
        }
        let Some(end) = find(&self.input, b"\r\n\r\n") else {
            if self.input.len() > MAX_HEAD_BYTES {
                return Err((431, "Request header fields too large"));
            }
            return Ok(false);
        };
        if end > MAX_HEAD_BYTES {
            return Err((431, "Request header fields too large"));
        }
        let head = String::from_utf8_lossy(&self.input[..end]).into_owned();
        self.input.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let mut parts = lines.next().unwrap_or("").split(' ');
        let (method, target, version) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") || parts.next().is_some() {
            return Err((400, "Malformed request line"));
        }
        let mut keep_alive = version != "HTTP/1.0";
        let (mut length, mut chunked, mut expect_continue, mut error_type) = (None, false, false, None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { return Err((400, "Malformed header")) };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.parse::<usize>().map_err(|_| (400, "Bad Content-Length"))?),
                "transfer-encoding" => {
                    if !value.eq_ignore_ascii_case("chunked") {
                        return Err((501, "Only chunked transfer coding is supported"));
                    }
                    chunked = true;
                }
                "connection" => {
                    let v = value.to_ascii_lowercase();
                    if v.contains("close") {
                        keep_alive = false;
                    } else if v.contains("keep-alive") {
                        keep_alive = true;
                    }
                }
                "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
                "lambda-runtime-function-error-type" => error_type = Some(value.to_string()),
                _ => {}
            }
        }
        self.close_after_answer = !keep_alive;
        let framing = if chunked { Framing::Chunked(Chunk::Size) } else { Framing::Length(length.unwrap_or(0)) };
        let too_large = matches!(framing, Framing::Length(n) if n > self.max_body);
        if expect_continue {
            if too_large {
                // The client has not sent the body: refuse it and close rather than read it.
                self.close_after_answer = true;
            } else {
                self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                self.flush();
            }
        }
        let path = target.split('?').next().unwrap_or("").to_string();
        self.pending = Some(Pending { method: method.to_string(), path, error_type, framing, body: Vec::new(), too_large });
        if too_large && expect_continue {
            // Nothing of the body will be read: hand the request out now.
            if let Some(p) = self.pending.as_mut() {
                p.framing = Framing::Length(0);
            }
        }
        Ok(true)
    }

    /// Moves body bytes from the input into the request; true when the body is complete.
    fn parse_body(&mut self) -> Result<bool, (u16, &'static str)> {
        let max = self.max_body;
        let p = self.pending.as_mut().expect("pending request");
        loop {
            match p.framing {
                Framing::Length(remaining) => {
                    let n = remaining.min(self.input.len());
                    keep(p, &self.input[..n], max);
                    self.input.drain(..n);
                    p.framing = Framing::Length(remaining - n);
                    return Ok(remaining == n);
                }
                Framing::Chunked(Chunk::Size) | Framing::Chunked(Chunk::Trailer) => {
                    let Some(eol) = find(&self.input, b"\r\n") else {
                        if self.input.len() > MAX_HEAD_BYTES {
                            return Err((400, "Malformed chunk"));
                        }
                        return Ok(false);
                    };
                    let line = String::from_utf8_lossy(&self.input[..eol]).into_owned();
                    self.input.drain(..eol + 2);
                    if let Framing::Chunked(Chunk::Trailer) = p.framing {
                        if line.is_empty() {
                            return Ok(true);
                        }
                        continue;
                    }
                    let size = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size, 16).map_err(|_| (400, "Malformed chunk size"))?;
                    p.framing = Framing::Chunked(if size == 0 { Chunk::Trailer } else { Chunk::Data(size) });
                }
                Framing::Chunked(Chunk::Data(remaining)) => {
                    let n = remaining.min(self.input.len());
                    if n == 0 {
                        return Ok(false);
                    }
                    keep(p, &self.input[..n], max);
                    self.input.drain(..n);
                    p.framing = Framing::Chunked(if remaining == n { Chunk::DataEnd } else { Chunk::Data(remaining - n) });
                }
                Framing::Chunked(Chunk::DataEnd) => {
                    if self.input.len() < 2 {
                        return Ok(false);
                    }
                    if &self.input[..2] != b"\r\n" {
                        return Err((400, "Malformed chunk"));
                    }
                    self.input.drain(..2);
                    p.framing = Framing::Chunked(Chunk::Size);
                }
            }
        }
    }
}

/// Keeps body bytes up to `max`; past it the body is dropped and marked too large.
fn keep(p: &mut Pending, bytes: &[u8], max: usize) {
    if p.too_large {
        return;
    }
    if p.body.len() + bytes.len() > max {
        p.too_large = true;
        p.body = Vec::new();
    } else {
        p.body.extend_from_slice(bytes);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}
