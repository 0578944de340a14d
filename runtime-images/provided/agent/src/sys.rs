//! The few system calls std does not offer: poll(2), O_NONBLOCK on pipes,
//! waitpid(2) for any child (the agent is PID 1 and reaps orphans), kill(2)
//! and a SIGTERM handler. Declared against the C library std already links.

use std::io;
use std::os::fd::RawFd;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct PollFd {
    pub fd: RawFd,
    pub events: i16,
    pub revents: i16,
}

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;
const O_NONBLOCK: i32 = 0o4000;
const EINTR: i32 = 4;
const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn signal(sig: i32, handler: usize) -> usize;
    fn _exit(code: i32) -> !;
}

/// Waits until one of `fds` is ready (no timeout: every wake-up is an event).
pub fn poll_forever(fds: &mut [PollFd]) -> io::Result<()> {
    loop {
        let n = unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, -1) };
        if n >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(EINTR) {
            return Err(err);
        }
    }
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    let flags = unsafe { fcntl(fd, F_GETFL) };
    if flags < 0 || unsafe { fcntl(fd, F_SETFL, flags | O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Blocks until any child ends; `None` when there are no children left.
pub fn wait_any() -> Option<(i32, i32)> {
    loop {
        let mut status = 0;
        let pid = unsafe { waitpid(-1, &mut status, 0) };
        if pid > 0 {
            return Some((pid, status));
        }
        if io::Error::last_os_error().raw_os_error() != Some(EINTR) {
            return None;
        }
    }
}

pub fn kill_now(pid: i32) {
    unsafe {
        kill(pid, SIGKILL);
    }
}

extern "C" fn on_sigterm(_: i32) {
    // As the other agents: `docker stop` ends the container at once with 143.
    unsafe { _exit(143) }
}

/// PID 1 ignores signals it has no handler for, so SIGTERM needs one.
pub fn exit_on_sigterm() {
    unsafe {
        signal(SIGTERM, on_sigterm as extern "C" fn(i32) as usize);
    }
}

/// How a wait status reads in Lambda's words ("exit status 1", "signal: killed").
pub fn describe_status(status: i32) -> String {
    let signal = status & 0x7f;
    if signal == 0 {
        return format!("exit status {}", (status >> 8) & 0xff);
    }
    let name = match signal {
        1 => "hangup",
        2 => "interrupt",
        6 => "aborted",
        9 => "killed",
        11 => "segmentation fault",
        13 => "broken pipe",
        15 => "terminated",
        _ => return format!("signal: {signal}"),
    };
    format!("signal: {name}")
}
