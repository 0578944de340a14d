//! The bootstrap's stdout and stderr, read from its pipes into one capped
//! buffer that each reply drains: everything written before a reply is sent
//! belongs to it (init's output to `initResult`, output between calls to the
//! next call). Capped at LOG_CAP_BYTES including the truncation line, as the
//! other agents do, and the cut never splits a UTF-8 character.

use std::io::{ErrorKind, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{ChildStderr, ChildStdout};

/// Mirrors LOG_CAP_BYTES in worker/sandbox/agent-protocol.ts.
const LOG_CAP_BYTES: usize = 64 * 1024;
/// Room kept under the cap for the truncation marker, so logs never exceed it.
const MARKER_RESERVE_BYTES: usize = 96;

pub struct Logs {
    kept: Vec<u8>,
    total: usize,
    pipes: Vec<Pipe>,
}

enum Pipe {
    Out(ChildStdout),
    Err(ChildStderr),
}

impl Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Pipe::Out(p) => p.read(buf),
            Pipe::Err(p) => p.read(buf),
        }
    }
    fn fd(&self) -> RawFd {
        match self {
            Pipe::Out(p) => p.as_raw_fd(),
            Pipe::Err(p) => p.as_raw_fd(),
        }
    }
}

impl Logs {
    pub fn new() -> Self {
        Logs { kept: Vec::new(), total: 0, pipes: Vec::new() }
    }

    /// Starts reading the bootstrap's pipes (already non-blocking).
    pub fn attach(&mut self, stdout: ChildStdout, stderr: ChildStderr) {
        self.pipes = vec![Pipe::Out(stdout), Pipe::Err(stderr)];
    }

    /// The pipes still open, for poll.
    pub fn fds(&self) -> Vec<RawFd> {
        self.pipes.iter().map(Pipe::fd).collect()
    }

    /// Reads whatever the pipes hold now, without blocking; a pipe at its end is closed.
    pub fn pump(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        let mut open = Vec::with_capacity(self.pipes.len());
        for mut pipe in std::mem::take(&mut self.pipes) {
            let keep = loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break false,
                    Ok(n) => self.take(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => break false,
                }
            };
            if keep {
                open.push(pipe);
            }
        }
        self.pipes = open;
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = LOG_CAP_BYTES.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.total += bytes.len();
    }

    /// Everything captured since the last drain as `(logs, truncated)`.
    pub fn drain(&mut self) -> (String, bool) {
        let kept = std::mem::take(&mut self.kept);
        let total = std::mem::replace(&mut self.total, 0);
        let text = String::from_utf8_lossy(&kept).into_owned();
        if total <= LOG_CAP_BYTES && text.len() <= LOG_CAP_BYTES {
            return (text, false);
        }
        let mut keep = LOG_CAP_BYTES - MARKER_RESERVE_BYTES;
        while keep > 0 && !text.is_char_boundary(keep) {
            keep -= 1;
        }
        let head = &text[..keep];
        let newline = if head.is_empty() || head.ends_with('\n') { "" } else { "\n" };
        let dropped = total.saturating_sub(keep);
        (format!("{head}{newline}[hearth] log truncated: {dropped} bytes dropped\n"), true)
    }
}
