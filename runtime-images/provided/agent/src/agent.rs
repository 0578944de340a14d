//! The function as the agent holds it: which phase it is in (waiting for
//! `init`, the bootstrap starting, ready, or a call in flight), the one call
//! in flight, the bootstrap's pending `next`, and the poll loop that moves
//! between them. Replies to the worker go out from here; so do the agent's
//! exits: after a fatal reply, the worker discards the container.

use crate::bootstrap::{self, Function, Running};
use crate::http::{Conn, Pumped};
use crate::logs::Logs;
use crate::sys::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use crate::worker_link::{self, ErrorInfo, Message, WorkerLink};
use std::collections::HashMap;
use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Mirrors MAX_RESULT_BYTES in worker/contract/limits.ts (Lambda's 6 MB).
pub const MAX_RESULT_BYTES: usize = 6 * 1024 * 1024;
/// Most Runtime API connections open at once; past it new ones wait in the listen queue
/// (so a bootstrap that leaks connections cannot make the agent spin on an accept it cannot do).
const MAX_CONNECTIONS: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    AwaitInit,
    Starting,
    Ready,
    Invoking,
}

pub struct Call {
    pub id: String,
    pub deadline_ms: i64,
    /// Kept until the call ends: a connection that breaks before the event is written out gets it again on the next `next`.
    pub event: Vec<u8>,
    pub delivered: bool,
    /// The connection the event went out on.
    pub delivered_on: Option<u64>,
    pub started: Instant,
}

pub struct Agent {
    pub link: WorkerLink,
    pub phase: Phase,
    pub call: Option<Call>,
    /// The connection whose `next` is waiting for a call.
    pub parked: Option<u64>,
    pub logs: Logs,
    pub conns: HashMap<u64, Conn>,
    listener: Option<TcpListener>,
    next_conn: u64,
    child: Option<Running>,
    init_started: Instant,
    pub function_arn: String,
    pub traces: u64,
}

enum Ready {
    Worker,
    Listener,
    Pipes,
    Exited,
    Conn(u64),
}

impl Agent {
    pub fn new(link: WorkerLink) -> Self {
        Agent {
            link,
            phase: Phase::AwaitInit,
            call: None,
            parked: None,
            logs: Logs::new(),
            conns: HashMap::new(),
            listener: None,
            next_conn: 0,
            child: None,
            init_started: Instant::now(),
            function_arn: String::new(),
            traces: 0,
        }
    }

    pub fn run(mut self) -> ! {
        loop {
            let mut fds = vec![PollFd { fd: self.link.stream.as_raw_fd(), events: POLLIN, revents: 0 }];
            let mut tags = vec![Ready::Worker];
            if let Some(listener) = self.listener.as_ref().filter(|_| self.conns.len() < MAX_CONNECTIONS) {
                fds.push(PollFd { fd: listener.as_raw_fd(), events: POLLIN, revents: 0 });
                tags.push(Ready::Listener);
            }
            for fd in self.logs.fds() {
                fds.push(PollFd { fd, events: POLLIN, revents: 0 });
                tags.push(Ready::Pipes);
            }
            if let Some(child) = &self.child {
                fds.push(PollFd { fd: child.exited.as_raw_fd(), events: POLLIN, revents: 0 });
                tags.push(Ready::Exited);
            }
            for (id, conn) in &self.conns {
                let events = (if conn.wants_read() { POLLIN } else { 0 }) | (if conn.wants_write() { POLLOUT } else { 0 });
                fds.push(PollFd { fd: conn.stream.as_raw_fd(), events, revents: 0 });
                tags.push(Ready::Conn(*id));
            }
            if let Err(err) = sys::poll_forever(&mut fds) {
                self.die(1, &format!("poll failed: {err}"));
            }
            let ready: Vec<&Ready> = fds.iter().zip(&tags).filter(|(fd, _)| fd.revents & (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLNVAL) != 0).map(|(_, t)| t).collect();
            // Output first, so a reply carries what was written before the request that caused it.
            if ready.iter().any(|t| matches!(t, Ready::Pipes)) {
                self.logs.pump();
            }
            for tag in &ready {
                if let Ready::Conn(id) = tag {
                    self.service(*id);
                }
            }
            if ready.iter().any(|t| matches!(t, Ready::Listener)) {
                self.accept_all();
            }
            if ready.iter().any(|t| matches!(t, Ready::Worker)) {
                self.from_worker();
            }
            if ready.iter().any(|t| matches!(t, Ready::Exited)) {
                self.bootstrap_ended();
            }
        }
    }

    fn accept_all(&mut self) {
        while self.conns.len() < MAX_CONNECTIONS {
            let Some(listener) = &self.listener else { return };
            match listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let id = self.next_conn;
                    self.next_conn += 1;
                    self.conns.insert(id, Conn::new(stream, MAX_RESULT_BYTES));
                    self.service(id);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Writes, reads and answers what one connection has, until it would block.
    fn service(&mut self, id: u64) {
        let Some(mut conn) = self.conns.remove(&id) else { return };
        let mut alive = conn.flush();
        while alive {
            match conn.pump() {
                Pumped::Request(request) => crate::runtime_api::handle(self, &mut conn, id, request),
                Pumped::Idle => break,
                Pumped::Closed => alive = false,
            }
        }
        if alive && !conn.finished() {
            self.conns.insert(id, conn);
            return;
        }
        if self.parked == Some(id) {
            self.parked = None;
        }
        if let Some(call) = self.call.as_mut().filter(|c| c.delivered_on == Some(id) && conn.wants_write()) {
            // The bootstrap never got the whole event: the call is still to be handed out.
            call.delivered = false;
            call.delivered_on = None;
        }
    }

    fn from_worker(&mut self) {
        let messages = match self.link.receive() {
            Ok(messages) => messages,
            Err(reason) if reason.is_empty() => self.die(0, ""),
            Err(reason) => self.die(1, &format!("protocol error: {reason}")),
        };
        for message in messages {
            match message.kind.as_str() {
                "init" => self.init(&message),
                "invoke" => self.invoke(&message),
                other => eprintln!("hearth agent: ignoring message of type {other:?}"),
            }
        }
    }

    fn init(&mut self, msg: &Message) {
        self.init_started = Instant::now();
        if self.phase != Phase::AwaitInit {
            let error = ErrorInfo::new("Runtime.InvalidState", "init after init");
            return self.send(&worker_link::init_result(Some(&error), false, 0.0, (String::new(), false)));
        }
        if let Err(failure) = self.start(msg) {
            let error = ErrorInfo::new(failure.error_type, failure.message);
            let elapsed = ms_since(self.init_started);
            let logs = self.logs.drain();
            self.send(&worker_link::init_result(Some(&error), false, elapsed, logs));
        }
    }

    fn start(&mut self, msg: &Message) -> Result<(), bootstrap::Failure> {
        bootstrap::write_secrets(&msg.fields_of("secrets"))?;
        let env = msg.string_map("env");
        let region = env.iter().find(|(k, _)| k == "AWS_REGION" || k == "AWS_DEFAULT_REGION").map(|(_, v)| v.clone()).unwrap_or_else(|| "local".into());
        let f = Function { handler: msg.string("handler"), name: msg.string("functionName"), version: msg.string("functionVersion"), memory_mb: msg.integer("memoryLimitInMB"), env };
        self.function_arn = format!("arn:aws:lambda:{region}:000000000000:function:{}", f.name);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| std::process::id().to_string());
        let log_stream = format!("{}/[{}]{host}", utc_day(), f.version);
        // Listening before the bootstrap exists, so its first request never finds the port closed.
        let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9001);
        let listener = TcpListener::bind(address).and_then(|l| l.set_nonblocking(true).map(|_| l)).map_err(|err| bootstrap::Failure {
            error_type: "Runtime.InitError",
            message: format!("cannot serve the Runtime API on {}: {err}", bootstrap::RUNTIME_API),
        })?;
        self.listener = Some(listener);
        let program = bootstrap::entrypoint(&f.handler)?;
        let (running, stdout, stderr) = bootstrap::spawn(&program, &bootstrap::environment(&f, &log_stream))?;
        self.logs.attach(stdout, stderr);
        self.child = Some(running);
        self.phase = Phase::Starting;
        Ok(())
    }

    /// The bootstrap asked for its first call: init is done.
    pub fn init_done(&mut self) {
        self.logs.pump();
        let logs = self.logs.drain();
        self.send(&worker_link::init_result(None, false, ms_since(self.init_started), logs));
        self.phase = Phase::Ready;
    }

    /// The bootstrap reported an init error: reply, and go (the worker discards the container).
    pub fn init_failed(&mut self, error: ErrorInfo) -> ! {
        self.logs.pump();
        let logs = self.logs.drain();
        self.send(&worker_link::init_result(Some(&error), true, ms_since(self.init_started), logs));
        self.die(1, "")
    }

    fn invoke(&mut self, msg: &Message) {
        let id = msg.string("id");
        if self.phase != Phase::Ready {
            let error = ErrorInfo::new("Runtime.InvalidState", format!("invoke while {:?}", self.phase));
            return self.send(&worker_link::invoke_result(&id, Err(&error), false, 0.0, (String::new(), false)));
        }
        self.call = Some(Call { id, deadline_ms: msg.integer("deadlineMs"), event: msg.raw("event").to_vec(), delivered: false, delivered_on: None, started: Instant::now() });
        self.phase = Phase::Invoking;
        if let Some(parked) = self.parked.take() {
            if let Some(mut conn) = self.conns.remove(&parked) {
                crate::runtime_api::deliver(self, &mut conn, parked);
                self.conns.insert(parked, conn);
            }
        }
    }

    /// Ends the call in flight with `outcome` (a result as JSON text, or an error).
    pub fn finish_call(&mut self, outcome: Result<&str, &ErrorInfo>, fatal: bool) {
        let Some(call) = self.call.take() else { return };
        self.logs.pump();
        let logs = self.logs.drain();
        self.send(&worker_link::invoke_result(&call.id, outcome, fatal, ms_since(call.started), logs));
        self.phase = Phase::Ready;
    }

    fn bootstrap_ended(&mut self) {
        let mut status = [0u8; 4];
        let Some(child) = self.child.as_mut() else { return };
        if child.exited.read_exact(&mut status).is_err() {
            return;
        }
        self.child = None;
        // Whatever it sent before it ended still counts: take it first.
        self.accept_all();
        for id in self.conns.keys().copied().collect::<Vec<_>>() {
            self.service(id);
        }
        let status = i32::from_be_bytes(status);
        if status & 0x7f == 9 && oom_kills() > 0 {
            // Out of memory: end as the other runtimes' processes do when the OOM killer takes them
            // (137, no reply), so the worker tells it from a crash the same way (FunctionOutOfMemory).
            self.die(137, "the bootstrap was killed by the kernel's OOM killer");
        }
        let how = sys::describe_status(status);
        match self.phase {
            Phase::Starting => self.init_failed(ErrorInfo::new("Runtime.ExitError", format!("Runtime exited with error: {how}"))),
            Phase::Invoking => {
                let id = self.call.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                let error = ErrorInfo::new("Runtime.ExitError", format!("RequestId: {id} Error: Runtime exited with error: {how}"));
                self.finish_call(Err(&error), true);
                self.die(1, "")
            }
            _ => self.die(1, &format!("the bootstrap exited between calls ({how})")),
        }
    }

    fn send(&mut self, json: &str) {
        if self.link.send(json).is_err() {
            self.die(0, "");
        }
    }

    /// Ends the agent (and with it the container), the bootstrap first.
    pub fn die(&mut self, code: i32, why: &str) -> ! {
        if !why.is_empty() {
            eprintln!("hearth agent: {why}");
        }
        if let Some(child) = &self.child {
            sys::kill_now(child.pid);
        }
        std::process::exit(code)
    }
}

/// How many processes the container's memory cgroup has OOM-killed (cgroup v1 or v2); 0 when unreadable.
fn oom_kills() -> u64 {
    ["/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| text.lines().filter_map(|line| line.strip_prefix("oom_kill ")?.trim().parse::<u64>().ok()).collect::<Vec<_>>())
        .max()
        .unwrap_or(0)
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Today in UTC as YYYY/MM/DD (for the log stream name), from the civil-from-days algorithm.
fn utc_day() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}/{month:02}/{day:02}")
}
