//! The one place that runs a Lua script: `EVALSHA` with the script's
//! compile-time SHA-1, so Redis neither receives nor hashes its text, and
//! `EVAL` with the text, once, on the same connection, when Redis answers
//! that it does not have the script cached (`NOSCRIPT`: after a restart, a
//! failover to a replica or a `SCRIPT FLUSH`). That `EVAL` caches the script
//! again, so later calls, from any instance, are `EVALSHA` alone.

use spin_sdk::redis::{Error as RedisError, RedisParameter, RedisResult};

use super::scripts::Script;
use super::{arg, Store, StoreError};

/// How Spin 4.0.2 words every Redis error reply before its kind: Spin hands
/// the component `error::other` with the Display text of its Redis client's
/// error (redis-rs), e.g. `An error was signalled by the server -
/// NoScriptError: No matching script. Please use EVAL.`, which no longer
/// carries Redis's own `NOSCRIPT` code (pinned by
/// `integration/tests/spin_behaviour.rs`).
const SERVER_ERROR_PREFIX: &str = "An error was signalled by the server - ";
/// The kinds redis-rs gives Redis's `NOSCRIPT` reply, as its Display text
/// starts after [`SERVER_ERROR_PREFIX`]: `NoScriptError` in the 0.32 line
/// (Spin 4.0.2, and SpinKube's shim on Spin 3.6.3), `NoScript` in 1.x. Both
/// are known, so a runtime upgrade cannot silently stop scripts from being
/// cached again after a failover.
const NOSCRIPT_KINDS: [&str; 2] = ["NoScriptError: ", "NoScript: "];
/// Redis's own code for it, for a runtime that passes Redis's message on
/// unchanged (`NOSCRIPT No matching script. Please use EVAL.`).
const NOSCRIPT_CODE: &str = "NOSCRIPT ";

impl Store {
    /// Runs `script` with `keys_and_args`: the number of keys, the keys,
    /// then the arguments, as `EVAL` takes them after the script. Any error
    /// but a `NOSCRIPT` one is the caller's, as for any other command.
    pub fn eval(
        &self,
        script: &Script,
        keys_and_args: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, StoreError> {
        let mut params = Vec::with_capacity(keys_and_args.len() + 1);
        params.push(arg(script.sha1()));
        params.extend(keys_and_args);
        let reply = match self.conn.execute("EVALSHA", &params) {
            Err(RedisError::Other(message)) if is_noscript(&message) => {
                // Rare (once per script after Redis lost its cache) and worth
                // seeing: it tells a restart or failover apart from load.
                eprintln!("redis script cache miss, sending the script: {message}");
                params[0] = arg(script.text());
                self.conn.execute("EVAL", &params)
            }
            reply => reply,
        };
        reply.map_err(|e| StoreError::from(e).context(script.file()))
    }
}

/// Whether `message` is Redis's answer to `EVALSHA` of a script it has not
/// cached, and nothing else: the kind or code must come first, so that a
/// script's own error (`... - ResponseError: user_script:1: ...`), whatever
/// it says, or an `OOM` refusal never makes a script run twice. Both the
/// wording of Spin 4.0.2 and Redis's own are accepted, since the component
/// also runs on other Spin runtimes (Spin 3.x, SpinKube's shim).
fn is_noscript(message: &str) -> bool {
    let reply = message.strip_prefix(SERVER_ERROR_PREFIX).unwrap_or(message);
    NOSCRIPT_KINDS.iter().any(|kind| reply.starts_with(kind)) || reply.starts_with(NOSCRIPT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_noscript_reply_means_the_script_is_not_cached() {
        for noscript in [
            // Spin 4.0.2 (spin_behaviour.rs pins it).
            "An error was signalled by the server - NoScriptError: No matching script. Please use EVAL.",
            // Redis's own wording, and redis-rs's kind without the prefix.
            "NOSCRIPT No matching script. Please use EVAL.",
            "NoScriptError: No matching script. Please use EVAL.",
            // redis-rs 1.x.
            "An error was signalled by the server - NoScript: No matching script. Please use EVAL.",
        ] {
            assert!(is_noscript(noscript), "{noscript}");
        }
        for other in [
            "",
            "An error was signalled by the server - ResponseError: user_script:1: NOSCRIPT - NoScriptError: ",
            "An error was signalled by the server - ExtensionError: OOM: command not allowed when used memory > 'maxmemory'.",
            "ERR Error running script: NOSCRIPT",
            "noscript",
            "NoScriptErrors",
            "NoScripts: x",
            "An error was signalled by the server - ResponseError: NoScript: ",
        ] {
            assert!(!is_noscript(other), "{other}");
        }
    }
}
