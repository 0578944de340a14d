//! The AWS Lambda Runtime API (version 2018-06-01) as the bootstrap sees it:
//!   GET  /2018-06-01/runtime/invocation/next            waits for the next call
//!   POST /2018-06-01/runtime/invocation/{id}/response   the call's result
//!   POST /2018-06-01/runtime/invocation/{id}/error      the call's error
//!   POST /2018-06-01/runtime/init/error                 init failed
//! Answers and error bodies in Lambda's shapes: 202 `{"status":"OK"}`; 400
//! InvalidRequestID; 403 InvalidStateTransition; 413 RequestEntityTooLarge;
//! 404/405 for anything else, all as `{"errorMessage","errorType"}`.

use crate::agent::{Agent, Phase, MAX_RESULT_BYTES};
use crate::http::{Body, Conn, Request};
use crate::json;
use crate::worker_link::ErrorInfo;

const PREFIX: &str = "/2018-06-01/runtime/";
/// Caps on what an error may carry, as the worker's own (agent-messages.ts).
const ERROR_TYPE_CAP: usize = 256;
const ERROR_MESSAGE_CAP: usize = 16 * 1024;
const ERROR_STACK_CAP: usize = 32 * 1024;

enum Route<'a> {
    Next,
    Response(&'a str),
    Error(&'a str),
    InitError,
}

fn route(path: &str) -> Option<(Route<'_>, &'static str)> {
    let rest = path.strip_prefix(PREFIX)?;
    if rest == "invocation/next" {
        return Some((Route::Next, "GET"));
    }
    if rest == "init/error" {
        return Some((Route::InitError, "POST"));
    }
    let call = rest.strip_prefix("invocation/")?;
    let (id, what) = call.rsplit_once('/')?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    match what {
        "response" => Some((Route::Response(id), "POST")),
        "error" => Some((Route::Error(id), "POST")),
        _ => None,
    }
}

/// Answers one request of the bootstrap's (or holds it: a `next` with no call yet).
pub fn handle(agent: &mut Agent, conn: &mut Conn, conn_id: u64, request: Request) {
    let Some((route, method)) = route(&request.path) else {
        return conn.answer_error(404, "NotFound", &format!("No route for {} {}", request.method, request.path));
    };
    if request.method != method {
        return conn.answer_error(405, "MethodNotAllowed", &format!("{} {} is not allowed", request.method, request.path));
    }
    match route {
        Route::Next => next(agent, conn, conn_id),
        Route::Response(id) => {
            if !is_current(agent, id) {
                return invalid_request_id(conn);
            }
            match request.body {
                Body::TooLarge => {
                    let error = too_large(format!("the function's response exceeds {MAX_RESULT_BYTES} bytes"));
                    agent.finish_call(Err(&error), false);
                    conn.answer_error(413, "RequestEntityTooLarge", &format!("Exceeded maximum allowed payload size ({MAX_RESULT_BYTES} bytes)."));
                }
                Body::Bytes(body) => {
                    let result = result_json(&body);
                    if result.len() > MAX_RESULT_BYTES {
                        let error = too_large(format!("the function returned {} bytes of JSON; results are limited to {MAX_RESULT_BYTES} bytes", result.len()));
                        agent.finish_call(Err(&error), false);
                    } else {
                        agent.finish_call(Ok(&result), false);
                    }
                    accepted(conn);
                }
            }
        }
        Route::Error(id) => {
            if !is_current(agent, id) {
                return invalid_request_id(conn);
            }
            let error = error_of(&request);
            agent.finish_call(Err(&error), false);
            accepted(conn);
        }
        Route::InitError => {
            if agent.phase != Phase::Starting {
                return conn.answer_error(403, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime: init has already completed");
            }
            let error = error_of(&request);
            accepted(conn);
            conn.flush();
            agent.init_failed(error);
        }
    }
}

fn next(agent: &mut Agent, conn: &mut Conn, conn_id: u64) {
    if agent.phase == Phase::Starting {
        agent.init_done();
    }
    match agent.phase {
        Phase::Invoking if agent.call.as_ref().is_some_and(|c| !c.delivered) => deliver(agent, conn, conn_id),
        Phase::Invoking => conn.answer_error(403, "InvalidStateTransition", "State transition from Running to Ready failed for runtime: the current invocation has no response yet"),
        _ if agent.parked.is_some_and(|p| p != conn_id && agent.conns.contains_key(&p)) => {
            conn.answer_error(403, "InvalidStateTransition", "another request for the next invocation is already waiting")
        }
        // Held until a call arrives (`Agent::invoke` delivers it).
        _ => agent.parked = Some(conn_id),
    }
}

/// Answers a held `next` with the call in flight: the event, exactly its bytes, and Lambda's headers.
pub fn deliver(agent: &mut Agent, conn: &mut Conn, conn_id: u64) {
    agent.traces += 1;
    let Some(call) = agent.call.as_mut() else { return };
    call.delivered = true;
    call.delivered_on = Some(conn_id);
    let trace = trace_id(&call.id, agent.traces);
    let headers = [
        ("Content-Type", "application/json".to_string()),
        ("Lambda-Runtime-Aws-Request-Id", call.id.clone()),
        ("Lambda-Runtime-Deadline-Ms", call.deadline_ms.to_string()),
        ("Lambda-Runtime-Invoked-Function-Arn", agent.function_arn.clone()),
        ("Lambda-Runtime-Trace-Id", trace),
    ];
    conn.answer(200, &headers, &call.event);
}

fn is_current(agent: &Agent, id: &str) -> bool {
    agent.phase == Phase::Invoking && agent.call.as_ref().is_some_and(|c| c.delivered && c.id == id)
}

fn accepted(conn: &mut Conn) {
    conn.answer(202, &[("Content-Type", "application/json".into())], b"{\"status\":\"OK\"}");
}

fn invalid_request_id(conn: &mut Conn) {
    conn.answer_error(400, "InvalidRequestID", "Invalid request ID");
}

fn too_large(message: String) -> ErrorInfo {
    ErrorInfo::new("Runtime.ResponseSizeTooLarge", message)
}

/// The body as the call's result: the JSON it is, `null` when empty, else the body as a JSON string.
fn result_json(body: &[u8]) -> String {
    let trimmed = json::trim(body);
    if trimmed.is_empty() {
        "null".to_string()
    } else if json::is_json_text(trimmed) {
        String::from_utf8_lossy(trimmed).into_owned()
    } else {
        json::quote(&String::from_utf8_lossy(body))
    }
}

/// An error report: the type from the header, else the body's `errorType`; the message from `errorMessage`; the stack from `stackTrace`.
fn error_of(request: &Request) -> ErrorInfo {
    let body: &[u8] = match &request.body {
        Body::Bytes(b) => b,
        Body::TooLarge => b"",
    };
    let fields = if json::is_json_text(json::trim(body)) { json::object_fields(body, 0..body.len()) } else { None };
    let field = |name: &str| fields.as_ref().and_then(|f| f.iter().find(|(k, _)| k == name)).map(|(_, span)| span.clone());
    let body_type = field("errorType").and_then(|s| json::string_at(body, &s));
    let error_type = request.error_type.clone().filter(|t| !t.is_empty()).or(body_type).unwrap_or_else(|| "Unhandled".into());
    let message = match (&fields, field("errorMessage").and_then(|s| json::string_at(body, &s))) {
        (_, Some(message)) => message,
        (None, None) if matches!(request.body, Body::TooLarge) => format!("the error report exceeds {MAX_RESULT_BYTES} bytes"),
        (None, None) => String::from_utf8_lossy(body).into_owned(),
        (Some(_), None) => String::new(),
    };
    let stack = field("stackTrace").and_then(|s| json::string_lines_at(body, &s).or_else(|| json::string_at(body, &s)));
    ErrorInfo { error_type: cap(error_type, ERROR_TYPE_CAP), message: cap(message, ERROR_MESSAGE_CAP), stack: stack.filter(|s| !s.is_empty()).map(|s| cap(s, ERROR_STACK_CAP)) }
}

fn cap(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// An X-Ray-shaped trace header (`Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0`); nothing traces it.
fn trace_id(id: &str, n: u64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes().chain(n.to_be_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let h2 = h.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("Root=1-{:08x}-{:016x}{:08x};Parent={:016x};Sampled=0", secs as u32, h, (h2 >> 32) as u32, h2)
}
