//! Starting the function's own program: its secret files, its environment
//! (Lambda's variables over the function's own), which executable it is
//! (`/var/task/bootstrap`, else the one the handler names) and the process,
//! with stdout/stderr piped to the agent and a thread that reaps every child
//! (the agent is PID 1: orphans are reparented to it) and reports the
//! bootstrap's own end on a socket the main loop polls.

use crate::sys;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Component, Path};
use std::process::{ChildStderr, ChildStdout, Command, Stdio};

pub const TASK_ROOT: &str = "/var/task";
pub const SECRETS_DIR: &str = "/run/secrets";
pub const RUNTIME_API: &str = "127.0.0.1:9001";

/// What `init` says about the function.
pub struct Function {
    pub handler: String,
    pub name: String,
    pub version: String,
    pub memory_mb: i64,
    pub env: Vec<(String, String)>,
}

/// An init failure in Lambda's terms.
pub struct Failure {
    pub error_type: &'static str,
    pub message: String,
}

pub struct Running {
    pub pid: i32,
    /// Readable once the bootstrap has ended: four bytes of wait status.
    pub exited: UnixStream,
}

/// Writes each secret to /run/secrets/<name>, mode 0400, created new (a sandbox is initialised once).
/// A value that is not a string (`None`) is refused like a bad name. Error types as the other agents'.
pub fn write_secrets(secrets: &[(String, Option<String>)]) -> Result<(), Failure> {
    for (name, value) in secrets {
        let Some(value) = value.as_ref().filter(|_| valid_secret_name(name)) else {
            let shown: String = name.chars().take(64).collect();
            return Err(Failure { error_type: "Runtime.InvalidSecret", message: format!("secret file name \"{shown}\" is not valid") });
        };
        let path = format!("{SECRETS_DIR}/{name}");
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&path)
            .and_then(|mut file| file.write_all(value.as_bytes()));
        if let Err(err) = written {
            return Err(Failure {
                error_type: "Runtime.SecretFilesUnavailable",
                message: format!("cannot write secret file {path}: {err} (is {SECRETS_DIR} a writable tmpfs in this sandbox?)"),
            });
        }
    }
    Ok(())
}

/// `[a-z0-9][a-z0-9-_.]{0,62}`, as agent-protocol.ts specifies.
fn valid_secret_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.'))
}

/// The program to run: `/var/task/bootstrap`, else the file the handler names under /var/task.
pub fn entrypoint(handler: &str) -> Result<String, Failure> {
    let bootstrap = format!("{TASK_ROOT}/bootstrap");
    if Path::new(&bootstrap).is_file() {
        return Ok(bootstrap);
    }
    let relative = Path::new(handler);
    let plain = !handler.is_empty() && relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if plain {
        let named = format!("{TASK_ROOT}/{handler}");
        if Path::new(&named).is_file() {
            return Ok(named);
        }
        if named != bootstrap {
            return Err(invalid(format!("Couldn't find valid bootstrap(s): [{bootstrap} {named}]")));
        }
    }
    Err(invalid(format!("Couldn't find valid bootstrap(s): [{bootstrap}]")))
}

fn invalid(message: String) -> Failure {
    Failure { error_type: "Runtime.InvalidEntrypoint", message }
}

/// The bootstrap's environment: defaults, then the function's own, then Lambda's reserved names.
pub fn environment(f: &Function, log_stream: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin"),
        ("LANG", "C.UTF-8"),
        ("HOME", "/tmp"),
        ("LD_LIBRARY_PATH", "/lib64:/usr/lib64:/var/task:/var/task/lib:/opt/lib"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in &f.env {
        // A name std cannot pass (empty, '=', NUL) is left out rather than failing the start.
        if !key.is_empty() && !key.contains('=') && !key.contains('\0') && !value.contains('\0') {
            env.push((key.clone(), value.clone()));
        }
    }
    let reserved = [
        ("AWS_LAMBDA_RUNTIME_API", RUNTIME_API.to_string()),
        ("_HANDLER", f.handler.replace('\0', "")),
        ("LAMBDA_TASK_ROOT", TASK_ROOT.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", f.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", f.memory_mb.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/hearth/{}", f.name)),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_string()),
        ("HEARTH_FUNCTION_NAME", f.name.clone()),
    ];
    for (key, value) in reserved {
        env.retain(|(k, _)| k != key);
        env.push((key.to_string(), value.replace('\0', "")));
    }
    env
}

/// Starts `program` in /var/task with `env` only, its output piped (non-blocking) to the agent.
pub fn spawn(program: &str, env: &[(String, String)]) -> Result<(Running, ChildStdout, ChildStderr), Failure> {
    let child = Command::new(program)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(TASK_ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| invalid(format!("fork/exec {program}: {}", lowercase_first(&err.to_string()))))?;
    let pid = child.id() as i32;
    let (mut report, exited) = UnixStream::pair().map_err(|err| invalid(format!("cannot watch the bootstrap: {err}")))?;
    let mut child = child;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    // `child` is never waited on through std: the reaper below owns every wait.
    drop(child);
    for fd in [stdout.as_raw_fd(), stderr.as_raw_fd()] {
        let _ = sys::set_nonblocking(fd);
    }
    std::thread::spawn(move || {
        while let Some((reaped, status)) = sys::wait_any() {
            if reaped == pid {
                let _ = report.write_all(&status.to_be_bytes());
            }
        }
    });
    Ok((Running { pid, exited }, stdout, stderr))
}

fn lowercase_first(text: &str) -> String {
    // std says "Permission denied (os error 13)"; Lambda says "permission denied".
    let text = text.split(" (os error").next().unwrap_or(text);
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
