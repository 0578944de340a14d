//! Hearth's agent for the `provided` runtime (Lambda's provided.al2023): the
//! container's entrypoint. It connects to the worker's socket and says
//! `hello`; on `init` it starts the function's own program (`bootstrap`) and
//! serves it the AWS Lambda Runtime API on 127.0.0.1:9001, turning each
//! `invoke` into the answer to the bootstrap's pending `next` and the
//! bootstrap's response or error into `invokeResult`. One thread does all of
//! it around poll(2); a second only reaps child processes.
//!
//! Modules, one concern each:
//!   worker_link   the worker socket, frames, the messages both ways
//!   agent         the state of the function: init, invoke, the bootstrap's end
//!   runtime_api   the Runtime API's routes, answered from that state
//!   http          one HTTP/1.1 connection (keep-alive, chunked, capped bodies)
//!   bootstrap     secrets, environment, which program, spawning and reaping
//!   logs          the bootstrap's stdout/stderr, capped per reply
//!   json          strict validation, fields as spans, strings
//!   sys           poll, O_NONBLOCK, waitpid, kill, SIGTERM

mod agent;
mod bootstrap;
mod http;
mod json;
mod logs;
mod runtime_api;
mod sys;
mod worker_link;

fn main() {
    sys::exit_on_sigterm();
    let socket = std::env::var("HEARTH_AGENT_SOCKET").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "/run/hearth/agent.sock".into());
    let mut link = match worker_link::WorkerLink::connect(&socket) {
        Ok(link) => link,
        Err(err) => {
            eprintln!("hearth agent: {err}");
            std::process::exit(1);
        }
    };
    if link.send(&worker_link::hello()).is_err() {
        std::process::exit(0);
    }
    agent::Agent::new(link).run();
}
