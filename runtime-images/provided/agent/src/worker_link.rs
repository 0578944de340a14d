//! The agent's one Unix socket to the worker: connecting (retrying briefly if
//! the socket is not there yet), length-prefixed JSON frames (a 4-byte
//! big-endian length, then UTF-8 JSON; `worker/sandbox/agent-protocol.ts`),
//! the messages the worker sends, and the replies, composed as text so a
//! result is spliced in verbatim.

use crate::json;
use std::io::{ErrorKind, Read, Write};
use std::ops::Range;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Mirrors MAX_FRAME_BYTES in worker/sandbox/agent-protocol.ts.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
const CONNECT_RETRY: Duration = Duration::from_millis(5);
const CONNECT_GIVE_UP: Duration = Duration::from_secs(2);

pub struct WorkerLink {
    pub stream: UnixStream,
    input: Vec<u8>,
}

/// A message from the worker: its type and the whole frame with its fields as spans.
pub struct Message {
    pub kind: String,
    pub frame: Vec<u8>,
    pub fields: Vec<(String, Range<usize>)>,
}

impl Message {
    pub fn span(&self, name: &str) -> Option<&Range<usize>> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    pub fn string(&self, name: &str) -> String {
        self.span(name).and_then(|s| json::string_at(&self.frame, s)).unwrap_or_default()
    }
    pub fn integer(&self, name: &str) -> i64 {
        self.span(name).and_then(|s| json::integer_at(&self.frame, s)).unwrap_or(0)
    }
    pub fn string_map(&self, name: &str) -> Vec<(String, String)> {
        self.span(name).map(|s| json::string_map_at(&self.frame, s)).unwrap_or_default()
    }
    /// An object's fields with their string values (None for a value that is not a string).
    pub fn fields_of(&self, name: &str) -> Vec<(String, Option<String>)> {
        let Some(span) = self.span(name) else { return Vec::new() };
        json::object_fields(&self.frame, span.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, json::string_at(&self.frame, &v)))
            .collect()
    }
    /// The raw bytes of a field's value (the event, exactly as the worker sent it).
    pub fn raw(&self, name: &str) -> &[u8] {
        self.span(name).map(|s| &self.frame[s.clone()]).unwrap_or(b"null")
    }
}

impl WorkerLink {
    pub fn connect(path: &str) -> Result<Self, String> {
        let started = Instant::now();
        loop {
            match UnixStream::connect(path) {
                Ok(stream) => return Ok(WorkerLink { stream, input: Vec::new() }),
                Err(err) if started.elapsed() >= CONNECT_GIVE_UP => return Err(format!("cannot connect to {path}: {err}")),
                Err(_) => std::thread::sleep(CONNECT_RETRY),
            }
        }
    }

    /// Sends one frame holding `json` (blocking: the worker always reads).
    pub fn send(&mut self, json: &str) -> std::io::Result<()> {
        let mut frame = Vec::with_capacity(4 + json.len());
        frame.extend_from_slice(&(json.len() as u32).to_be_bytes());
        frame.extend_from_slice(json.as_bytes());
        self.stream.write_all(&frame)
    }

    /// Reads what is there (the socket polled readable) and returns the complete messages.
    /// Err when the worker closed the socket or sent a malformed frame.
    pub fn receive(&mut self) -> Result<Vec<Message>, String> {
        let start = self.input.len();
        self.input.resize(start + 256 * 1024, 0);
        let read = self.stream.read(&mut self.input[start..]);
        self.input.truncate(start + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Err(String::new()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return Err(String::new()),
        }
        let mut messages = Vec::new();
        while self.input.len() >= 4 {
            let length = u32::from_be_bytes([self.input[0], self.input[1], self.input[2], self.input[3]]) as usize;
            if length > MAX_FRAME_BYTES {
                return Err(format!("frame of {length} bytes exceeds {MAX_FRAME_BYTES}"));
            }
            if self.input.len() < 4 + length {
                break;
            }
            let frame: Vec<u8> = self.input[4..4 + length].to_vec();
            self.input.drain(..4 + length);
            let fields = json::object_fields(&frame, 0..frame.len()).ok_or("frame is not a JSON object")?;
            let kind = fields.iter().find(|(k, _)| k == "type").and_then(|(_, v)| json::string_at(&frame, v)).unwrap_or_default();
            messages.push(Message { kind, frame, fields });
        }
        Ok(messages)
    }
}

/// How a call or init failed, as the protocol's `error`.
pub struct ErrorInfo {
    pub error_type: String,
    pub message: String,
    pub stack: Option<String>,
}

impl ErrorInfo {
    pub fn new(error_type: &str, message: impl Into<String>) -> Self {
        ErrorInfo { error_type: error_type.to_string(), message: message.into(), stack: None }
    }
    fn to_json(&self) -> String {
        let stack = self.stack.as_ref().map(|s| format!(",\"stack\":{}", json::quote(s))).unwrap_or_default();
        format!("{{\"type\":{},\"message\":{}{}}}", json::quote(&self.error_type), json::quote(&self.message), stack)
    }
}

pub fn hello() -> String {
    "{\"type\":\"hello\",\"runtime\":\"provided\",\"agentVersion\":1}".to_string()
}

pub fn init_result(error: Option<&ErrorInfo>, fatal: bool, duration_ms: f64, logs: (String, bool)) -> String {
    let outcome = match error {
        None => "\"ok\":true".to_string(),
        Some(e) => format!("\"ok\":false,\"error\":{}", e.to_json()),
    };
    let fatal = if fatal { ",\"fatal\":true" } else { "" };
    format!(
        "{{\"type\":\"initResult\",{outcome}{fatal},\"durationMs\":{duration_ms:.3},\"logs\":{},\"logsTruncated\":{}}}",
        json::quote(&logs.0),
        logs.1
    )
}

/// `result` is JSON text, spliced in as it is.
pub fn invoke_result(id: &str, outcome: Result<&str, &ErrorInfo>, fatal: bool, duration_ms: f64, logs: (String, bool)) -> String {
    let outcome = match outcome {
        Ok(result) => format!("\"ok\":true,\"result\":{result}"),
        Err(e) => format!("\"ok\":false,\"error\":{}", e.to_json()),
    };
    let fatal = if fatal { ",\"fatal\":true" } else { "" };
    format!(
        "{{\"type\":\"invokeResult\",\"id\":{},\"durationMs\":{duration_ms:.3},\"logs\":{},\"logsTruncated\":{}{fatal},{outcome}}}",
        json::quote(id),
        json::quote(&logs.0),
        logs.1
    )
}
